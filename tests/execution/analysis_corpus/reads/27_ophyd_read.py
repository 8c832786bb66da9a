# expect: read pvs=SR:OPHYD:RO
from ophyd import EpicsSignalRO
signal = EpicsSignalRO("SR:OPHYD:RO", name="ro")
print(signal.get())
