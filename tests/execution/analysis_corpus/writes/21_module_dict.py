# expect: write pvs=X:DICT
import epics
epics.__dict__["caput"]("X:DICT", 1)
