# expect: write pvs=SR:METHODCALLER
import operator
import epics
pv = epics.PV("SR:METHODCALLER")
operator.methodcaller("put", 1)(pv)
