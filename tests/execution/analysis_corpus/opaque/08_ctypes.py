# expect: opaque
import ctypes
libca = ctypes.CDLL("libca.so")
