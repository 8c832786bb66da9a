# expect: write pvs=SR:RIE
import asyncio
import functools
from epics import caput


async def main():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, functools.partial(caput, "SR:RIE", 1))
