# expect: opaque
import marshal
code = marshal.loads(open("blob", "rb").read())
