# expect: write pvs=SR:CAPROTO:ASYNC
from caproto.asyncio.client import Context


async def main():
    ctx = Context()
    (pv,) = await ctx.get_pvs("SR:CAPROTO:ASYNC")
    await pv.write([1])
