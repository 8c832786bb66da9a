# expect: write pvs=SR:MAG:Q1:SETPT
import epics
epics.caput("SR:MAG:Q1:SETPT", 5.0)
