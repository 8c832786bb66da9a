# expect: write pvs=X:LAMBDA
from epics import caput
w = lambda v: caput("X:LAMBDA", v)
w(1)
