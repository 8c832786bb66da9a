# expect: write
import epics


class SafePV(epics.PV):
    def put(self, value, **kw):
        if value > 10:
            raise ValueError("too big")
        return super().put(value, **kw)


SafePV("SR:SAFE").put(1)
