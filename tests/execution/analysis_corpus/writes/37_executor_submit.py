# expect: write pvs=SR:EXEC
from concurrent.futures import ThreadPoolExecutor
from epics import caput
with ThreadPoolExecutor(max_workers=2) as executor:
    future = executor.submit(caput, "SR:EXEC", 1)
    future.result()
