# expect: write pvs=SR:P4P:ASYNC
from p4p.client.asyncio import Context


async def main():
    ctx = Context("pva")
    await ctx.put("SR:P4P:ASYNC", 1)
