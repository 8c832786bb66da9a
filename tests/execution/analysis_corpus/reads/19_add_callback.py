# expect: read pvs=SR:CB
import epics


def show(value=None, **kw):
    print(value)


pv = epics.PV("SR:CB")
pv.add_callback(show)
