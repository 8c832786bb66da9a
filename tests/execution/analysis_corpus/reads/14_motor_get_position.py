# expect: read pvs=BL:MOT
from epics import Motor
m = Motor("BL:MOT")
print(m.get_position())
