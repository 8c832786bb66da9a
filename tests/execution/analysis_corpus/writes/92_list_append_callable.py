# expect: write pvs=SR:APPEND
from epics import caput
actions = []
actions.append(caput)
for action in actions:
    action("SR:APPEND", 1)
