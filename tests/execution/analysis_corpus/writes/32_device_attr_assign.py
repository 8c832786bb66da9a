# expect: write pvs=P:DEV:
from epics import Device
dev = Device("P:DEV:", attrs=("VAL",))
dev.VAL = 1
