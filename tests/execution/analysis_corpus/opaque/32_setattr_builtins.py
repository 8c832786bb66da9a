# expect: opaque
import builtins
from epics import caput
setattr(builtins, "print", caput)
