# expect: read pvs=SR:CT:READ
from caproto.threading.client import Context
ctx = Context()
pv, = ctx.get_pvs("SR:CT:READ")
print(pv.read().data)
