# expect: write pvs=SR:FACTORY
import epics


def make():
    return epics.PV("SR:FACTORY")


make().put(1)
