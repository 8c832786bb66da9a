# expect: write pvs=SR:Q:PARTIAL
import functools
from epics import caput
set_quad = functools.partial(caput, "SR:Q:PARTIAL")
set_quad(3.3)
