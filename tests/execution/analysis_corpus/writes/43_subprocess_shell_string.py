# expect: write pvs=SR:SHELL
import subprocess
subprocess.run("caput SR:SHELL 1", shell=True)
