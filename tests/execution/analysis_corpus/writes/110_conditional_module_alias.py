# expect: write pvs=SR:COND
import random
if random.random() > 0.5:
    import epics as backend
else:
    import math as backend
backend.caput("SR:COND", 1)
