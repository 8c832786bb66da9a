# expect: read pvs=SR:CAPROTO:READ
from caproto.sync.client import read as r
reading = r("SR:CAPROTO:READ")
print(reading.data)
