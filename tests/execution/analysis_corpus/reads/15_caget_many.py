# expect: read pvs=SR:A,SR:B
import epics
values = epics.caget_many(["SR:A", "SR:B"])
