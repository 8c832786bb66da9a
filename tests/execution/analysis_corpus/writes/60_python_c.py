# expect: write pvs=SR:PYC
import subprocess
subprocess.run(["python3", "-c", "import epics; epics.caput('SR:PYC', 1)"])
