# expect: write pvs=SR:TRY
try:
    import epics
except ImportError:
    epics = None
if epics is not None:
    epics.caput("SR:TRY", 1)
