# expect: read pvs=SR:P1,SR:P2
from p4p.client.thread import Context
ctx = Context("pva")
print(ctx.get(["SR:P1", "SR:P2"]))
