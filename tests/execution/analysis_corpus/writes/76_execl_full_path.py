# expect: write pvs=SR:EXECL
import os
os.execl("/usr/bin/caput", "caput", "SR:EXECL", "1")
