# expect: write pvs=BL:M2
from epics import Motor
m = Motor("BL:M2")
m.drive = 1.0
