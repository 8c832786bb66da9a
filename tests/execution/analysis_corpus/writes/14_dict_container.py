# expect: write pvs=X:6
from epics import caput
d = {"w": caput, "other": print}
d["w"]("X:6", 2)
