# expect: write pvs=X:1
import epics
x = epics
x.caput("X:1", 1)
