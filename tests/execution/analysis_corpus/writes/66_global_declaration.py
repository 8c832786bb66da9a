# expect: write pvs=SR:GLOBAL
import epics
w = None


def init():
    global w
    w = epics.caput


init()
w("SR:GLOBAL", 1)
