# expect: opaque
import os
directory = input()
os.system(f"ls {directory}")
