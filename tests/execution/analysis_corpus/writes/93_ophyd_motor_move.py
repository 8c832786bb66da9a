# expect: write pvs=BL:MTR
from ophyd import EpicsMotor
m = EpicsMotor("BL:MTR", name="m")
m.move(2.0)
