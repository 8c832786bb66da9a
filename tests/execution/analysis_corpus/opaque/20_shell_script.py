# expect: opaque
import subprocess
subprocess.run(["./restore_lattice.sh"])
