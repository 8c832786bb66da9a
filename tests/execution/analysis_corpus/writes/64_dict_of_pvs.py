# expect: write pvs=SR:DQ1,SR:DQ2
from epics import PV
pvs = {"q1": PV("SR:DQ1"), "q2": PV("SR:DQ2")}
for key in pvs:
    pvs[key].put(0)
