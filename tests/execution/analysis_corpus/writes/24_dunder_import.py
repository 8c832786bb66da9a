# expect: write pvs=X:DUNDER
__import__("epics").caput("X:DUNDER", 1)
