# expect: write pvs=SR:GLOBALS:STORE
from epics import caput
globals()["w"] = caput
w("SR:GLOBALS:STORE", 1)
