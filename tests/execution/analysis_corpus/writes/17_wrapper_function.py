# expect: write pvs=SR:Q1
import epics

def set_quad(name, value):
    """Looks harmless."""
    epics.caput(name, value)

set_quad("SR:Q1", 1.0)
