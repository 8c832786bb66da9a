# expect: opaque
import runpy
runpy.run_module("machine.ramp", run_name="__main__")
