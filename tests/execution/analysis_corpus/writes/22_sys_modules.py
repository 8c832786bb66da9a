# expect: write pvs=X:SYS
import sys
import epics
sys.modules["epics"].caput("X:SYS", 1)
