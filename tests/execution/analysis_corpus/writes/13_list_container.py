# expect: write pvs=X:5
import epics
fns = [epics.caput]
fns[0]("X:5", 1)
