# expect: write pvs=SR:C05:SET
from epics import caput
caput("SR:C%02d:SET" % 5, 1)
