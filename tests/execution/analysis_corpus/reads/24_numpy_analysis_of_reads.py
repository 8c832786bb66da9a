# expect: read pvs=SR:BPM:X,SR:BPM:Y
import numpy as np
from epics import caget

x = np.array(caget("SR:BPM:X"))
y = np.array(caget("SR:BPM:Y"))
rms = np.sqrt(np.mean(x ** 2 + y ** 2))
print(f"orbit rms {rms:.3f} mm")
