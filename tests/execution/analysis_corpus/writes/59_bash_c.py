# expect: write pvs=SR:BASH
import subprocess
subprocess.run(["bash", "-c", "caput SR:BASH 1 && echo done"])
