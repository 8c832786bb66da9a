# expect: read pvs=SR:CTRL
from epics import PV
limits = PV("SR:CTRL").get_ctrlvars()
