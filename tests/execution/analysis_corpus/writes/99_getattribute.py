# expect: write pvs=SR:GETATTRIBUTE
import epics
w = epics.__getattribute__("caput")
w("SR:GETATTRIBUTE", 1)
