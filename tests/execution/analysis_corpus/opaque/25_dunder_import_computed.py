# expect: opaque
module = __import__(input())
