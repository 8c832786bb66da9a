# expect: read pvs=SR:CAMON
from epics import camonitor


def on_change(pvname=None, value=None, **kw):
    print(pvname, value)


camonitor("SR:CAMON", callback=on_change)
