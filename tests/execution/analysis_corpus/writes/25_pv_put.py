# expect: write pvs=SR:PV:PUT
import epics
pv = epics.PV("SR:PV:PUT")
pv.put(1.5, wait=True)
