# expect: write pvs=SR:EXECVP
import os
os.execvp("caput", ["caput", "SR:EXECVP", "1"])
