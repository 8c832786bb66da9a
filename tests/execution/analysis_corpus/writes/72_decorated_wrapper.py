# expect: write pvs=SR:DECO
import functools
from epics import caput


def logged(func):
    @functools.wraps(func)
    def inner(*args, **kwargs):
        print("calling", func.__name__)
        return func(*args, **kwargs)
    return inner


@logged
def set_value(pv, value):
    caput(pv, value)


set_value("SR:DECO", 1)
