# expect: write pvs=SR:L1,SR:L2
from epics import caput
results = [caput(n, 0) for n in ("SR:L1", "SR:L2")]
