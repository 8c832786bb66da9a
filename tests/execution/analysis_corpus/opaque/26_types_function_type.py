# expect: opaque
import types
f = types.FunctionType(compile("1", "<x>", "eval"), {})
