# expect: none
import subprocess
subprocess.run(["echo", "hello"])
subprocess.check_output(["git", "status"])
