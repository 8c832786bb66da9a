# expect: opaque
import sys
expression = sys.argv[1]
print(eval(expression))
