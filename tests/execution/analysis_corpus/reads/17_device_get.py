# expect: read pvs=SR:DEV2:
from epics import Device
dev = Device("SR:DEV2:", attrs=("VAL",))
print(dev.get("VAL"))
