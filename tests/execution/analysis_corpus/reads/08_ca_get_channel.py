# expect: read pvs=SR:CA:GET
from epics import ca
chid = ca.create_channel("SR:CA:GET")
value = ca.get(chid)
