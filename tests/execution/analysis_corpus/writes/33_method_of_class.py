# expect: write pvs=SR:CLS:SET
import epics


class Magnet:
    def __init__(self, name):
        self.pv = epics.PV(name)

    def energise(self, amps):
        self.pv.put(amps)


Magnet("SR:CLS:SET").energise(10)
