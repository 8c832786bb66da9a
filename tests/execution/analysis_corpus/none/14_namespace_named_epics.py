# expect: none
from types import SimpleNamespace
epics = SimpleNamespace(caput=lambda name, value: None)
epics.caput("SR:X", 1)
