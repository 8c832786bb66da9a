# expect: write pvs=X:4
import epics
get, put = epics.caget, epics.caput
put("X:4", 1)
