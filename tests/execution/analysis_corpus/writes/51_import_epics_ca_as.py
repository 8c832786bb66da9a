# expect: write pvs=SR:CA:AS
import epics.ca as ca
ca.put(ca.create_channel("SR:CA:AS"), 4)
