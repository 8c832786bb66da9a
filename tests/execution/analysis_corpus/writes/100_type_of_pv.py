# expect: write pvs=SR:TYPE
import epics
pv = epics.PV("SR:TYPE")
type(pv).put(pv, 1)
