# expect: opaque
from epics import caput
def broken(:
    caput("SR:X", 1)
