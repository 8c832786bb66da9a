# expect: read pvs=SR:PV:GET
from epics import PV
pv = PV("SR:PV:GET")
value = pv.get(timeout=2.0)
