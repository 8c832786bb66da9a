# expect: write pvs=SR:GETATTR:PV
from epics import PV
pv = PV("SR:GETATTR:PV")
getattr(pv, "put")(1)
