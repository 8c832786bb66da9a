# expect: write pvs=SR:CH:1
import epics.ca
chid = epics.ca.create_channel("SR:CH:1")
epics.ca.put(chid, 3)
