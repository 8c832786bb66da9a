# expect: write pvs=SR:COTHREAD
from cothread.catools import caput, caget
caput("SR:COTHREAD", 1)
