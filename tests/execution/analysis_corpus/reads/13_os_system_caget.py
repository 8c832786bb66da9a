# expect: read pvs=SR:SYS:GET
import os
os.system("caget SR:SYS:GET")
