# expect: read pvs=SR:STAR:GET
from epics import *
print(caget("SR:STAR:GET"))
