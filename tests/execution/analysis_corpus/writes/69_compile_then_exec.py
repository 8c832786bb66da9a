# expect: write pvs=SR:COMPILE
from epics import caput
code = compile("caput('SR:COMPILE', 1)", "<agent>", "exec")
exec(code)
