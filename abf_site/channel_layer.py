"""The embedded default's channel layer: in-memory in the web process, with a
Unix-socket relay so worker processes can push to it, and no server to run.

The process that hosts WebSocket consumers (the first to add a channel to a
group: daphne) listens on ABF_CHANNEL_RELAY_SOCKET. Any other process (a
django-q worker, a management command) forwards its group_send there as one
JSON line. If no web process is listening there is no page to update, and the
message is dropped: pages take a fresh snapshot from the database whenever
they (re)connect, so nothing a reviewer must see is lost.

For more than one web process, set REDIS_URL: channels-redis is used instead.
"""
import asyncio
import json
import logging
import os
import socket
import threading

from channels.layers import InMemoryChannelLayer

log = logging.getLogger(__name__)


class RelayChannelLayer(InMemoryChannelLayer):
    def __init__(self, path, **kwargs):
        super().__init__(**kwargs)
        self.path = str(path)
        self._server = None
        self._server_lock = asyncio.Lock()
        self._client = None
        self._client_lock = threading.Lock()

    # --- the web process: listen and deliver locally ---------------------------

    async def group_add(self, group, channel):
        await self._listen()
        await super().group_add(group, channel)

    async def _listen(self):
        if self._server is not None:
            return
        async with self._server_lock:
            if self._server is not None:
                return
            if os.path.exists(self.path) and _answers(self.path):
                log.error("another process already relays on %s; use REDIS_URL for several web processes", self.path)
            elif os.path.exists(self.path):
                os.unlink(self.path)  # left by a process that died
            self._server = await asyncio.start_unix_server(self._relay, path=self.path)
            os.chmod(self.path, 0o600)

    async def _relay(self, reader, writer):
        try:
            while line := await reader.readline():
                try:
                    item = json.loads(line)
                    await super().group_send(item["group"], item["message"])
                except (ValueError, KeyError, TypeError):
                    log.warning("ignored a malformed relay line")
        except ConnectionError:
            pass
        finally:
            writer.close()

    # --- any process: deliver here if we listen, else forward -----------------

    async def group_send(self, group, message):
        if self._server is not None:
            await super().group_send(group, message)
        else:
            await asyncio.to_thread(self._forward, group, message)

    def _forward(self, group, message):
        line = (json.dumps({"group": group, "message": message}) + "\n").encode()
        with self._client_lock:
            for attempt in (1, 2):  # a reconnect after the web process restarted
                try:
                    if self._client is None:
                        self._client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                        self._client.settimeout(2)
                        self._client.connect(self.path)
                    self._client.sendall(line)
                    return
                except OSError:
                    if self._client is not None:
                        self._client.close()
                        self._client = None
            log.warning("no web process took the push to %s on %s; dropped (pages resync on reconnect)", group, self.path)


def _answers(path):
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()
