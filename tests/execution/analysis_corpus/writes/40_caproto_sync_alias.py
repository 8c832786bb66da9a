# expect: write pvs=SR:SYNC
from caproto.sync.client import write as w
w("SR:SYNC", 1)
