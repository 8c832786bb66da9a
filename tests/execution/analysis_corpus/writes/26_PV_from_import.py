# expect: write pvs=SR:PV:DIRECT
from epics import PV
PV("SR:PV:DIRECT").put(2)
