# expect: write pvs=SR:DGET
from epics import caput
handlers = {"set": caput}
handlers.get("set")("SR:DGET", 1)
