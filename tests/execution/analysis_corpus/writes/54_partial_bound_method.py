# expect: write pvs=SR:PBM
import functools
from epics import PV
pv = PV("SR:PBM")
apply = functools.partial(pv.put, 3)
apply()
