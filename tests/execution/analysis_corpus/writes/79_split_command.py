# expect: write pvs=SR:SPLIT
import subprocess
cmd = "caput SR:SPLIT 1".split()
subprocess.check_call(cmd)
