# expect: write pvs=X:GA
import epics
getattr(epics, "caput")("X:GA", 1)
