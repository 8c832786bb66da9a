# expect: none
import epics
epics.poll(evt=0.01, iot=0.1)
