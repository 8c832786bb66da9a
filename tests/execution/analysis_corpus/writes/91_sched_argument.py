# expect: write pvs=SR:SCHED
import sched
import time
from epics import caput
s = sched.scheduler(time.time, time.sleep)
s.enter(1, 1, caput, argument=("SR:SCHED", 1))
s.run()
