# expect: write pvs=BL:M1
from epics import Motor
motor = Motor("BL:M1")
position = motor.get_position()
motor.stop()
