# expect: write
from epics import caput
for sector in range(1, 4):
    caput(f"SR{sector:02d}:Q1:SETPT", 0.0)
