# expect: read pvs=SR:DCCT:CURRENT
import epics
current = epics.caget("SR:DCCT:CURRENT")
print(f"beam current {current:.2f} mA")
