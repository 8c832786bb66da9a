# expect: opaque
import importlib
module_name = input()
mod = importlib.import_module(module_name)
