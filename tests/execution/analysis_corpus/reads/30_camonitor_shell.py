# expect: read pvs=SR:CAMON:SHELL
import subprocess
proc = subprocess.Popen(["camonitor", "SR:CAMON:SHELL"], stdout=subprocess.PIPE)
