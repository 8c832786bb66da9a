"""Fixtures for deployment tests: an application service folder of the
test's own (ABF_SERVICE_PATHS) and a build folder in tmp."""
import textwrap
from pathlib import Path

import pytest


class ServiceTree:
    """Writes service folders and environments under one service root."""

    def __init__(self, root):
        self.root = Path(root)

    def service(self, folder, service_yml, **templates):
        path = self.root / folder
        path.mkdir(parents=True, exist_ok=True)
        (path / "service.yml").write_text(textwrap.dedent(service_yml))
        for name, text in templates.items():
            (path / name.replace("_j2", ".j2").replace("_yml", ".yml")).write_text(textwrap.dedent(text))
        return path

    def environment(self, name, text):
        path = self.root / "environments"
        path.mkdir(parents=True, exist_ok=True)
        (path / f"{name}.yml").write_text(textwrap.dedent(text))


@pytest.fixture
def app_services(tmp_path, settings):
    root = tmp_path / "app-services"
    root.mkdir()
    settings.ABF_SERVICE_PATHS = [str(root)]
    settings.ABF_DEPLOY_BUILD_DIR = str(tmp_path / "build")
    return ServiceTree(root)


# A tiny HTTP service run by the executor image's Python (local material
# only): it listens where it is told, and with an upstream URL it first
# asks the upstream and exits 1 if that does not answer.
SERVE = '''\
import http.server, signal, sys, time, urllib.request
signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))  # PID 1 ignores it otherwise
host, port, upstream, delay = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
if upstream:
    print("upstream answered", urllib.request.urlopen(upstream, timeout=2).status, flush=True)
time.sleep(delay)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
print("listening on", host, port, flush=True)
http.server.HTTPServer((host, port), Handler).serve_forever()
'''

HTTP_SERVICE = """\
    name: {name}
    group: {group}
    image: "{{{{ executor_image }}}}"
    depends_on: {depends_on}
    health:
      http: {{port: {port}, path: /healthz}}
      interval_seconds: 0.2
      timeout_seconds: 1
      retries: 2
      start_period_seconds: 15
    restart: {{policy: on-failure, max_restarts: 3, window_seconds: 60, backoff_seconds: 0}}
    ports: ["{port}"]
"""

HTTP_COMPOSE = """\
    command: [{{{{ executor_python | tojson }}}}, "/srv/serve.py", "{{{{ listen_address }}}}", "{port}", "{upstream}", "{delay}"]
    volumes: ["{srv}:/srv:ro"]
"""


@pytest.fixture(scope="session")
def executor_image(docker_engine):
    """The executor image on the suite's engine: the tiny services' Python."""
    import os

    from django.core.management import call_command

    previous = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = docker_engine
    try:
        call_command("build_executor_image")
    finally:
        if previous is None:
            del os.environ["DOCKER_HOST"]
        else:
            os.environ["DOCKER_HOST"] = previous
    return docker_engine


@pytest.fixture
def engine(executor_image, monkeypatch):
    import docker

    monkeypatch.setenv("DOCKER_HOST", executor_image)
    return docker.DockerClient(base_url=executor_image)


@pytest.fixture
def serve_folder():
    """serve.py where the containers' user (nobody) can read it."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="abf-deploy-"))
    folder.chmod(0o755)
    (folder / "serve.py").write_text(SERVE)
    (folder / "serve.py").chmod(0o644)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
def demo(app_services, engine, serve_folder, request):
    """A two-service group `demo` on the host's network (the test engine has
    no bridge): backend (slow to start) and frontend, which depends on it and
    exits if it starts before the backend answers. Removed afterwards."""
    from tests.conftest import free_port

    environment = "t-" + request.node.name.replace("_", "-")[5:30].strip("-")
    backend, frontend = free_port(), free_port()
    app_services.environment(environment, f"network_mode: host\ngroups: [demo, flaky]\n")
    app_services.service(
        "demo/backend", HTTP_SERVICE.format(name="backend", group="demo", depends_on="[]", port=backend),
        compose_yml_j2=HTTP_COMPOSE.format(port=backend, upstream="", delay=0.5, srv=serve_folder),
    )
    app_services.service(
        "demo/frontend", HTTP_SERVICE.format(name="frontend", group="demo", depends_on="[backend]", port=frontend),
        compose_yml_j2=HTTP_COMPOSE.format(
            port=frontend, upstream=f"http://127.0.0.1:{backend}/healthz", delay=0, srv=serve_folder
        ),
    )
    yield Demo(environment, backend, frontend, engine)
    for container in engine.containers.list(all=True, filters={"label": f"org.abf.environment={environment}"}):
        container.remove(force=True)


class Demo:
    def __init__(self, environment, backend_port, frontend_port, engine):
        self.environment, self.backend_port, self.frontend_port, self.engine = environment, backend_port, frontend_port, engine

    def container(self, service):
        return self.engine.containers.get(f"abf-{self.environment}-{service}")

    def containers(self):
        return self.engine.containers.list(all=True, filters={"label": f"org.abf.environment={self.environment}"})
