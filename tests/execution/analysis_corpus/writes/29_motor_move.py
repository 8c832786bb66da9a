# expect: write pvs=XXX:m1
import epics
m = epics.Motor("XXX:m1")
m.move(1.5, wait=True)
