# expect: opaque
import epics
name = input()
vars(epics)[name]("SR:X", 1)
