# expect: opaque
import os
cmd = os.environ["RESTORE_CMD"]
os.system(cmd)
