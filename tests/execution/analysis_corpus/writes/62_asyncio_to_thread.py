# expect: write pvs=SR:TOTHREAD
import asyncio
from epics import caput


async def main():
    await asyncio.to_thread(caput, "SR:TOTHREAD", 1)

asyncio.run(main())
