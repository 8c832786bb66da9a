# expect: write pvs=SR:MAG:Q1:SETPT
from epics import caput as _w
import numpy as np
_w("SR:MAG:Q1:SETPT", float(np.mean([1.0, 2.0])))
