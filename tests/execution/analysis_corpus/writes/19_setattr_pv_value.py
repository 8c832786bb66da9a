# expect: write pvs=X:SA
import epics
pv = epics.PV("X:SA")
setattr(pv, "value", 3)
