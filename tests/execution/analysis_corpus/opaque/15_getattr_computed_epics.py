# expect: opaque
import epics
name = "ca" + "put" if input() else "caget"
fn = getattr(epics, input())
fn("SR:X", 1)
