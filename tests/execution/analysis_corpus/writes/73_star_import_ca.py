# expect: write pvs=SR:STARCA
from epics.ca import *
put(create_channel("SR:STARCA"), 1)
