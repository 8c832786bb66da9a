# expect: read pvs=SR:PVGET
import subprocess
subprocess.run("pvget SR:PVGET | grep value", shell=True)
