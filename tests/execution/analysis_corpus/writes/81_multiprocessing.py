# expect: write pvs=SR:MP
import multiprocessing
from epics import caput
p = multiprocessing.Process(target=caput, args=("SR:MP", 1))
p.start()
