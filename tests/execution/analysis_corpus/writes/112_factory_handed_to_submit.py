# expect: write pvs=SR:FACTORY:SUBMIT
from concurrent.futures import ThreadPoolExecutor
import epics


def get_writer():
    return epics.caput


with ThreadPoolExecutor() as pool:
    pool.submit(get_writer(), "SR:FACTORY:SUBMIT", 1)
