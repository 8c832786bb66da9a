# expect: write pvs=SR:ASUB
import asyncio


async def main():
    proc = await asyncio.create_subprocess_exec("caput", "SR:ASUB", "1")
    await proc.wait()
