# expect: write pvs=SR:SUB
import subprocess
subprocess.run(["caput", "SR:SUB", "1"], check=True)
