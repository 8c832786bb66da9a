# expect: opaque
import subprocess
subprocess.run("echo caput SR:X 1 | sh", shell=True)
