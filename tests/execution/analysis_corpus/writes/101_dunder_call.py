# expect: write pvs=SR:DUNDER:CALL
import epics
epics.caput.__call__("SR:DUNDER:CALL", 1)
