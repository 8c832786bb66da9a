# expect: write pvs=SR:RF:VOLT
from epics import *
caput("SR:RF:VOLT", 2.5)
