# expect: write pvs=SR:SETATTR
from epics import PV
pv = PV("SR:SETATTR")
pv.__setattr__("value", 3)
