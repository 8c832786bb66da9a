# expect: opaque
import subprocess
subprocess.run(["bash"], input=b"caget X")
