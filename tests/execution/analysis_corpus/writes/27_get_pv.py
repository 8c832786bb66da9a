# expect: write pvs=SR:GETPV
from epics import get_pv
pv = get_pv("SR:GETPV")
pv.put(2)
