# expect: write pvs=X:IMPL
import importlib
mod = importlib.import_module("epics")
mod.caput("X:IMPL", 1)
