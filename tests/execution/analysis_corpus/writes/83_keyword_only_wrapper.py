# expect: write pvs=SR:KW
from epics import caput


def apply(*, pv, value):
    caput(pv, value)


apply(pv="SR:KW", value=1)
