# expect: write pvs=SR:CAPROTO
from caproto.threading.client import Context
ctx = Context()
x, = ctx.get_pvs("SR:CAPROTO")
reading = x.read()
x.write([1])
