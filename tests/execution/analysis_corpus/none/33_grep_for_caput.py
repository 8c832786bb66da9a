# expect: none
import subprocess
subprocess.run(["grep", "caput", "agent.log"])
subprocess.run("grep -c caput agent.log | wc -l", shell=True)
