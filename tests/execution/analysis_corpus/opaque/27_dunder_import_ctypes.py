# expect: opaque
lib = __import__("ctypes").CDLL("libca.so")
