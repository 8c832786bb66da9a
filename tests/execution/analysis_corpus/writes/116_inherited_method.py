# expect: write pvs=SR:Q:INHERIT
import epics


class Base:
    def apply(self, value):
        epics.caput(self.name, value)


class Quad(Base):
    name = "SR:Q:INHERIT"


Quad().apply(1)
