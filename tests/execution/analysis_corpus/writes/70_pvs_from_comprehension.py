# expect: write pvs=SR:LC1,SR:LC2
from epics import PV
pvs = [PV(name) for name in ["SR:LC1", "SR:LC2"]]
for pv in pvs:
    pv.put(0)
