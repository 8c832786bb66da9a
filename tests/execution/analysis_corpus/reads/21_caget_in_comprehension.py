# expect: read pvs=SR:BPM1,SR:BPM2
from epics import caget
readings = {name: caget(name) for name in ["SR:BPM1", "SR:BPM2"]}
