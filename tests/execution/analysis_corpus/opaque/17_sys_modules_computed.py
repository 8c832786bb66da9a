# expect: opaque
import sys
name = input()
module = sys.modules[name]
