# expect: read pvs=SR:PVA:GET
from p4p.client.thread import Context
ctx = Context("pva")
value = ctx.get("SR:PVA:GET")
ctx.close()
