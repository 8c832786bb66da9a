# expect: opaque
import subprocess
subprocess.run(["python", "other_script.py", "--apply"])
