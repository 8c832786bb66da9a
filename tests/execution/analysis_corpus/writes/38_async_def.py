# expect: write pvs=SR:ASYNC
import asyncio
from epics import caput


async def main():
    await asyncio.sleep(0.1)
    caput("SR:ASYNC", 1)


asyncio.run(main())
