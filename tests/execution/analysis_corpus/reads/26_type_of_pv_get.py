# expect: read pvs=SR:TYPE:GET
import epics
pv = epics.PV("SR:TYPE:GET")
print(type(pv).__name__, pv.get())
