# expect: read pvs=SR:RF:FREQ
from epics import caget as read_pv
freq = read_pv("SR:RF:FREQ")
