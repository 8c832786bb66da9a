# expect: write pvs=SR:CB
from caproto.threading.client import Context
a, b = Context().get_pvs("SR:CA", "SR:CB")
b.write(1)
