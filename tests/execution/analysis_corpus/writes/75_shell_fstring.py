# expect: write
import os
pv = "SR:" + input()
os.system(f"caput {pv} 1")
