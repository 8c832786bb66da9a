# expect: write pvs=SR:STATIC
import epics


class Ops:
    w = staticmethod(epics.caput)

    @classmethod
    def go(cls):
        cls.w("SR:STATIC", 1)


Ops.go()
