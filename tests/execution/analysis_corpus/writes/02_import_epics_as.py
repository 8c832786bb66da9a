# expect: write pvs=SR:MAG:Q2:SETPT
import epics as e
e.caput("SR:MAG:Q2:SETPT", 1.2)
