# expect: none
import epics
import time
time.sleep(0.1)
print(epics.__name__)
