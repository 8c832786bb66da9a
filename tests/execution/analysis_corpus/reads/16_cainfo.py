# expect: read pvs=SR:INFO
import epics
epics.cainfo("SR:INFO")
