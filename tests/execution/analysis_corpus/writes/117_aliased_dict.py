# expect: write pvs=SR:ALIAS:DICT
from epics import caput
handlers = {}
alias = handlers
alias["set"] = caput
handlers["set"]("SR:ALIAS:DICT", 1)
