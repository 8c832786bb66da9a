# expect: opaque
import builtins
runner = getattr(builtins, "ex" + input())
