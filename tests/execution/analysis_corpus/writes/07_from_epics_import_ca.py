# expect: write pvs=SR:CH:2
from epics import ca
channel = ca.create_channel("SR:CH:2")
ca.put(channel, 1)
