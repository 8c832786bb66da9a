# expect: write pvs=SR:ATTRGETTER
import operator
import epics
operator.attrgetter("caput")(epics)("SR:ATTRGETTER", 1)
