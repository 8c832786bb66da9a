# expect: opaque
from cffi import FFI
ffi = FFI()
