# expect: write pvs=SR:CLOSURE
from epics import caput


def make_setter(name):
    def setter(value):
        caput(name, value)
    return setter


set_it = make_setter("SR:CLOSURE")
set_it(3)
