# expect: write pvs=SR:VAL
from epics import PV
pv = PV("SR:VAL")
pv.value = 3
