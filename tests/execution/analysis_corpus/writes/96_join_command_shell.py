# expect: write pvs=SR:JOIN
import subprocess
subprocess.run(" ".join(["caput", "SR:JOIN", "1"]), shell=True)
