# expect: write pvs=M:A,M:B
import epics
list(map(epics.caput, ["M:A", "M:B"], [1, 2]))
