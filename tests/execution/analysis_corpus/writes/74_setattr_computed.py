# expect: write pvs=SR:SETATTR:COMP
from epics import PV
pv = PV("SR:SETATTR:COMP")
attribute = input()
setattr(pv, attribute, 3)
