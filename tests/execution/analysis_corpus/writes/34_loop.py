# expect: write pvs=SR:C1:SET,SR:C2:SET
from epics import caput
for name in ["SR:C1:SET", "SR:C2:SET"]:
    caput(name, 0)
