# expect: opaque
import builtins
from epics import caput
builtins.print = caput
print("SR:X", 1)
