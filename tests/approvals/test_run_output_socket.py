"""The run socket forwards a running step's output as it is printed."""
import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from abf_site.routing import websocket_urlpatterns
from approvals import push
from execution.models import ExecutionRecord
from execution.services import execute_step
from tests.conftest import wait_for
from tests.factories import make_step

pytestmark = pytest.mark.django_db(transaction=True)

app = URLRouter(websocket_urlpatterns)


async def follow(run, user):
    ws = WebsocketCommunicator(app, f"/ws/runs/{run.pk}/")
    ws.scope["user"] = user
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from())["event"] == "run"  # the snapshot
    return ws


def run_async(coro):
    from asgiref.sync import async_to_sync

    return async_to_sync(coro)()


def test_output_pushed_for_a_run_reaches_that_runs_page_only(operator):
    step = make_step(operator, 'print("a")')
    other = make_step(operator, 'print("b")')

    async def scenario():
        ws = await follow(step.plan.run, operator)
        bystander = await follow(other.plan.run, operator)
        await database_sync_to_async(push.execution_output)(step.plan.run_id, 7, "stderr", "<b>warning</b>\n", 12)
        assert await ws.receive_json_from(timeout=2) == {
            "event": "output", "execution": 7, "stream": "stderr", "text": "<b>warning</b>\n", "offset": 12
        }
        assert await bystander.receive_nothing(timeout=0.3)
        await ws.disconnect()
        await bystander.disconnect()

    run_async(scenario)


@pytest.mark.slow
def test_a_real_execution_streams_its_lines_before_it_ends(operator):
    step = make_step(operator, "import time\nfor i in range(3):\n    print(f'line {i}', flush=True)\n    time.sleep(0.5)")

    async def scenario():
        ws = await follow(step.plan.run, operator)
        execution = asyncio.ensure_future(database_sync_to_async(execute_step, thread_sensitive=False)(step))
        streamed, states = "", []
        while not states or states[-1] == "running":
            message = await ws.receive_json_from(timeout=20)
            if message["event"] == "output":
                assert states and states[-1] == "running", "output comes while the step runs"
                assert message["stream"] == "stdout"
                streamed += message["text"]
            else:
                states += [e["state"] for e in message["run"]["executions"]][-1:]
        record = await execution
        await ws.disconnect()
        return streamed, states, record

    streamed, states, record = run_async(scenario)
    assert states[-1] == "succeeded"
    assert streamed == record.stdout == "line 0\nline 1\nline 2\n"


@pytest.mark.slow
def test_a_page_that_connects_mid_run_starts_from_the_output_so_far(operator):
    code = "import time\nfor i in range(6):\n    print(f'line {i} \U0001f680', flush=True)\n    time.sleep(0.3)"
    step = make_step(operator, code)

    async def scenario():
        execution = asyncio.ensure_future(database_sync_to_async(execute_step, thread_sensitive=False)(step))
        await database_sync_to_async(wait_for)(
            lambda: "line 1" in (ExecutionRecord.objects.filter(step=step).values_list("stdout", flat=True).first() or ""),
            timeout=20, message="two lines in the record",
        )
        ws = WebsocketCommunicator(app, f"/ws/runs/{step.plan.run_id}/")
        ws.scope["user"] = operator
        assert (await ws.connect())[0]
        snapshot = (await ws.receive_json_from())["run"]["executions"][-1]
        assert snapshot["state"] == "running" and snapshot["stdout"].startswith("line 0 \U0001f680\nline 1 \U0001f680\n")
        shown, reach = snapshot["stdout"], utf16_length(snapshot["stdout"])
        while True:
            message = await ws.receive_json_from(timeout=20)
            if message["event"] == "run" and message["run"]["executions"][-1]["state"] != "running":
                break
            if message["event"] == "output":
                assert message["offset"] <= reach, "no gap after the snapshot"
                fresh = message["text"].encode("utf-16-le")[2 * (reach - message["offset"]):].decode("utf-16-le")
                shown, reach = shown + fresh, max(reach, message["offset"] + utf16_length(message["text"]))
        record = await execution
        await ws.disconnect()
        return shown, record

    shown, record = run_async(scenario)
    assert shown == record.stdout == "".join(f"line {i} \U0001f680\n" for i in range(6))


def utf16_length(text):
    return len(text.encode("utf-16-le")) // 2
