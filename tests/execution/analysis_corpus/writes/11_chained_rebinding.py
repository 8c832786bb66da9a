# expect: write pvs=X:3
import epics
x = epics
p = x.caput
p("X:3", 7)
