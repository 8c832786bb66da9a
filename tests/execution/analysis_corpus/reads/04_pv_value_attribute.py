# expect: read pvs=SR:PV:VALUE
import epics
pv = epics.PV("SR:PV:VALUE")
print(pv.value * 2)
