# expect: write pvs=SR:THREAD
import threading
from epics import caput
t = threading.Thread(target=caput, args=("SR:THREAD", 1))
t.start()
t.join()
