# expect: write pvs=SR:CLSATTR
from epics import PV


class Ring:
    current = PV("SR:CLSATTR")


Ring.current.put(1)
