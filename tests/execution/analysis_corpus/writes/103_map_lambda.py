# expect: write pvs=SR:MAP:LAMBDA
from epics import PV
list(map(lambda p: p.put(1), [PV("SR:MAP:LAMBDA")]))
