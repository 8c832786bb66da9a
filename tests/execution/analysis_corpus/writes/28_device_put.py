# expect: write pvs=SR:DEV:VAL
import epics
dev = epics.Device("SR:DEV:", attrs=("VAL", "RBV"))
dev.put("VAL", 3)
