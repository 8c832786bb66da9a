# expect: opaque
from epics import caput
name = input()
globals()[name]("SR:X", 1)
