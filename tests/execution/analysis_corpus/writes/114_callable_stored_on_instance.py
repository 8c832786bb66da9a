# expect: write pvs=SR:HOLDER
import epics


class Holder:
    def __init__(self, fn):
        self.fn = fn

    def run(self):
        self.fn("SR:HOLDER", 1)


Holder(epics.caput).run()
