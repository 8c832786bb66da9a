# expect: write pvs=SR:POPEN
import os
out = os.popen("pvput SR:POPEN 1").read()
