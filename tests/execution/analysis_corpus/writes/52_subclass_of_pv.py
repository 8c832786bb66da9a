# expect: write
import epics


class Magnet(epics.PV):
    pass


Magnet("SR:SUBCLASS").put(1)
