# expect: write pvs=SR:REGISTRY
from epics import caput

REGISTRY = {}


def register(name):
    def decorate(fn):
        REGISTRY[name] = fn
        return fn
    return decorate


@register("write")
def write(value):
    caput("SR:REGISTRY", value)


REGISTRY["write"](1)
