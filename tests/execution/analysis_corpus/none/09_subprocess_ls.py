# expect: none
import subprocess
subprocess.run(["ls", "-l"], check=True)
subprocess.run("ls -l | wc -l", shell=True)
