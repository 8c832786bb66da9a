# expect: write pvs=SR:EVAL:RET
import epics
f = eval("epics.caput")
f("SR:EVAL:RET", 1)
