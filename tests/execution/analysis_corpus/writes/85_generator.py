# expect: write pvs=SR:GEN
from epics import PV


def corrector_pvs():
    yield PV("SR:GEN")


for pv in corrector_pvs():
    pv.put(0)
