# expect: write pvs=SR:PVMOD
from epics.pv import PV as ProcessVariable
ProcessVariable("SR:PVMOD").put(1)
