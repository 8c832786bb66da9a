# expect: opaque
import subprocess
tool = input()
subprocess.run([tool, "SR:X", "1"])
