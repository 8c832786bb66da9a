# expect: opaque
import base64
exec(base64.b64decode("ZnJvbSBlcGljcyBpbXBvcnQgY2FwdXQ=").decode())
