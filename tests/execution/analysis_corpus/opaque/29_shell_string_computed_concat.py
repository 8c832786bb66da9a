# expect: opaque
import subprocess
subprocess.run("echo " + input(), shell=True)
