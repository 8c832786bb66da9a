# expect: write pvs=X:2
import epics
put = epics.caput
put("X:2", 0.5)
