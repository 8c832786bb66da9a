# expect: write pvs=SR:SYS:CMD
import os
os.system("caput -w 5 SR:SYS:CMD 1")
