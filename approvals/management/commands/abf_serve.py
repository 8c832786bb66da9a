import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the whole service: the ASGI web server (daphne) and a django-q2 worker cluster "
        "together. Ctrl-C stops both. Host and port default to ABF_HOST/ABF_PORT or 127.0.0.1:8000."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("ABF_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("ABF_PORT", "8000")))

    def handle(self, *args, host, port, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        # Each child in a session of its own: Ctrl-C reaches only this
        # process, which then stops each child through its main process (a
        # SIGINT to the whole group can deadlock django-q's shutdown).
        children = {
            "web": subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "abf_site.asgi:application"],
                cwd=settings.BASE_DIR, start_new_session=True,
            ),
            "worker": subprocess.Popen([*manage, "qcluster"], cwd=settings.BASE_DIR, start_new_session=True),
        }
        self._banner(host, port)
        stopping = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopping.append(True))
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"The {name} process exited ({child.returncode}); stopping abf.")
                        stopping.append(True)
                time.sleep(0.3)
        finally:
            self._stop(children)

    def _banner(self, host, port):
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        lines = [f"abf is running: http://{shown}:{port}/", "Log in with one of:"]
        creds = settings.VAR_DIR / "demo-credentials.txt"
        if creds.exists():
            lines += [f"  {u:9} password {p}" for u, p in (l.split(":", 1) for l in creds.read_text().split())]
        else:
            lines.append("  an account made with `python manage.py createsuperuser`")
        lines.append("Press Ctrl-C to stop web and worker.")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    def _stop(self, children):
        self.stdout.write("Stopping web and worker...")
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.stdout.write("Stopped.")
