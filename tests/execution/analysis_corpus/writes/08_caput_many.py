# expect: write pvs=A:1,A:2
import epics
epics.caput_many(["A:1", "A:2"], [1, 2])
