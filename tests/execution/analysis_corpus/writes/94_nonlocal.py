# expect: write pvs=SR:NONLOCAL
import epics


def outer():
    writer = None

    def pick():
        nonlocal writer
        writer = epics.caput

    pick()
    writer("SR:NONLOCAL", 1)


outer()
