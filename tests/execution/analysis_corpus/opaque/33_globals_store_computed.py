# expect: opaque
from epics import caput
globals()[input()] = caput
