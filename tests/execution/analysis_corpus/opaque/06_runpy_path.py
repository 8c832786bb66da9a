# expect: opaque
import runpy
runpy.run_path("/opt/scripts/ramp.py")
