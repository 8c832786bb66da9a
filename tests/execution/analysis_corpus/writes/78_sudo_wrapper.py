# expect: write pvs=SR:SUDO
import subprocess
subprocess.Popen(["sudo", "-E", "caput", "SR:SUDO", "1"])
