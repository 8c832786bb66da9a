# expect: read pvs=SR:DCCT
from epics import caget


class Monitor:
    def current(self):
        return caget("SR:DCCT")


print(Monitor().current())
