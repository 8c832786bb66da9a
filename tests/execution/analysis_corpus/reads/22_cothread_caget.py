# expect: read pvs=SR:CO:GET
from cothread.catools import caget
print(caget("SR:CO:GET"))
