# expect: write pvs=SR:CAPUT:ALIAS
from epics.ca import put as ca_put, create_channel
ca_put(create_channel("SR:CAPUT:ALIAS"), 1)
