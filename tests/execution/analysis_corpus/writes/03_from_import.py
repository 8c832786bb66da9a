# expect: write pvs=LI:BPM:GAIN
from epics import caput
caput("LI:BPM:GAIN", 3)
