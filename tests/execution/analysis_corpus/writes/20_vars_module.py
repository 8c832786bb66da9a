# expect: write pvs=X:VARS
import epics
vars(epics)["caput"]("X:VARS", 1)
