# expect: write pvs=SR:IA,SR:IB
from epics import caput
settings = {"SR:IA": 1.0, "SR:IB": 2.0}
for name, value in settings.items():
    caput(name, value)
