# expect: write pvs=SR:PVA
from p4p.client.thread import Context
Context("pva").put("SR:PVA", 1)
