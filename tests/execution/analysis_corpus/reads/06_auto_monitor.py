# expect: read pvs=SR:MON
from epics import PV
pv = PV("SR:MON", auto_monitor=True)
