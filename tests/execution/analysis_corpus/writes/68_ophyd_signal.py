# expect: write pvs=SR:OPHYD
from ophyd import EpicsSignal
sig = EpicsSignal("SR:OPHYD")
sig.put(1)
