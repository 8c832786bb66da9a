# expect: write pvs=SR:WALRUS
import epics
if (w := epics.caput) is not None:
    w("SR:WALRUS", 1)
