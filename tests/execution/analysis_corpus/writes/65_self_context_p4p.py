# expect: write pvs=SR:P4P:SELF
from p4p.client.thread import Context


class Controller:
    def __init__(self):
        self.ctx = Context("pva")

    def apply(self, value):
        self.ctx.put("SR:P4P:SELF", value)


Controller().apply(1)
