# expect: write pvs=SR:SUBST
import os
os.system("echo $(caput SR:SUBST 1)")
