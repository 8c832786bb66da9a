# expect: write pvs=SR:TIMER
import threading
from epics import PV
pv = PV("SR:TIMER")
threading.Timer(1.0, pv.put, args=[1]).start()
