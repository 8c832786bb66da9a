"""PostgreSQL and Redis from Debian's packages, on loopback, in folders of
their own: the production configuration's servers for the production tests
and the load bench. Nothing is installed or left running: a Stack starts
both on free ports and stops them (and removes their folders) at the end.

    with Stack() as stack:
        stack.env  # DATABASE_URL and REDIS_URL for abf processes
        stack.redis.restart()
        stack.postgres.stop(); stack.postgres.start()
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


# The Stack of this test session, set by `python -m tests.production`.
CURRENT = None


class ServerMissing(RuntimeError):
    """A server binary is not installed (apt-get install postgresql redis-server)."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(ready, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not become ready in {timeout} s")


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Postgres:
    """A PostgreSQL cluster in `folder`, trust auth on 127.0.0.1 only. As
    root, the server runs as the `postgres` user (initdb refuses root)."""

    def __init__(self, folder):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise ServerMissing("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-A", "trust", "-U", "postgres", "-E", "UTF8", "-D", str(self.data))

    def _run(self, tool, *args):
        command = [str(self.bin / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.folder)

    def url(self, database="abf"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self):
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")
        return self

    def stop(self, mode="fast"):
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name):
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)


class Redis:
    """A Redis server on 127.0.0.1 without persistence, in the foreground
    of a child process so it can be killed and started again."""

    def __init__(self, folder):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise ServerMissing("Redis is not installed (apt-get install redis-server)")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        log = open(self.folder / "redis.log", "ab")
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        _wait(lambda: _answers(self.port), 10, "Redis")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self):
        self.stop()
        self.start()


class Stack:
    """PostgreSQL (with an `abf` database) and Redis, for one test session."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="abf-prod-"))
        os.chmod(self.folder, 0o755)
        self.postgres = Postgres(self.folder / "postgres")
        self.redis = Redis(self.folder / "redis")

    @property
    def env(self):
        return {"DATABASE_URL": self.postgres.url(), "REDIS_URL": self.redis.url}

    def __enter__(self):
        self.postgres.start()
        self.postgres.create_database("abf")
        self.redis.start()
        return self

    def __exit__(self, *exc):
        self.redis.stop()
        try:
            self.postgres.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)
