"""abf's own driver of the Docker engine (the docker SDK), working from the
same compose entries the rendered compose files hold, and the health probes.

There is no compose plugin on every Docker host (Debian's docker.io has
none), so `deploy up` creates the containers itself. Every container carries
labels (org.abf.environment, .group, .service, .ports, .config) by which abf
finds it again. The engine's own restart policy is left at "no": abf's
monitor applies the service's policy (with its window, backoff and alert).
"""
import json
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import docker
from docker.types import EndpointConfig

from deployment.catalog import DeploymentError, HealthCheck, RestartPolicy
from deployment.rendering import LABEL

SDK_KEYS = {
    "command": "command", "entrypoint": "entrypoint", "environment": "environment", "user": "user",
    "working_dir": "working_dir", "read_only": "read_only", "cap_drop": "cap_drop", "cap_add": "cap_add",
    "security_opt": "security_opt", "mem_limit": "mem_limit", "pids_limit": "pids_limit",
    "stop_signal": "stop_signal", "init": "init", "shm_size": "shm_size", "network_mode": "network_mode",
    "labels": "labels", "image": "image", "container_name": "name", "group_add": "group_add",
}
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def client():
    """The engine DOCKER_HOST names (the local socket by default)."""
    try:
        engine = docker.from_env()
        engine.ping()
        return engine
    except docker.errors.DockerException as exc:
        raise DeploymentError(f"cannot reach the Docker engine (DOCKER_HOST): {exc}") from None


def seconds(duration):
    return sum(float(n) * UNITS[unit] for n, unit in DURATION_PART.findall(str(duration)))


def run_arguments(entry, network_name, service_name, engine):
    """containers.create() arguments for one compose service entry."""
    kwargs = {SDK_KEYS[k]: v for k, v in entry.items() if k in SDK_KEYS}
    if "tmpfs" in entry:
        mounts = [entry["tmpfs"]] if isinstance(entry["tmpfs"], str) else entry["tmpfs"]
        kwargs["tmpfs"] = dict((m.split(":", 1) + [""])[:2] for m in mounts)
    if "volumes" in entry:
        kwargs["volumes"] = list(entry["volumes"])
    if "ports" in entry:
        kwargs["ports"] = {}
        for binding in entry["ports"]:
            address, host_port, container_port = binding.rsplit(":", 2)
            kwargs["ports"][f"{container_port}/tcp"] = (address, int(host_port))
    if "networks" in entry:
        kwargs["network"] = network_name
        kwargs["networking_config"] = {network_name: EndpointConfig(engine.api._version, aliases=[service_name])}
    if "healthcheck" in entry:
        check = entry["healthcheck"]
        kwargs["healthcheck"] = {
            "test": check["test"], "retries": check["retries"],
            **{key: int(seconds(check[key]) * 1e9) for key in ("interval", "timeout", "start_period")},
        }
    return kwargs


def containers(engine, environment=None, service=None, every_state=True):
    labels = [f"{LABEL}.environment={environment}"] if environment else [f"{LABEL}.environment"]
    if service:
        labels.append(f"{LABEL}.service={service}")
    return engine.containers.list(all=every_state, filters={"label": labels})


def container_of(engine, environment, service):
    found = containers(engine, environment, service)
    return found[0] if found else None


def ensure_image(engine, entry, log, built=None):
    """Build from the rendered build context (once per `built` set: web and
    worker share abf's image), or use (or pull) the image."""
    image = entry["image"]
    if "build" in entry and built is not None and image in built:
        return
    if "build" in entry:
        if built is not None:
            built.add(image)
        log(f"building {image}")
        try:
            engine.images.build(
                path=entry["build"]["context"], dockerfile=entry["build"]["dockerfile"], tag=image, rm=True, pull=False
            )
        except (docker.errors.BuildError, docker.errors.APIError) as exc:
            raise DeploymentError(f"building {image} failed: {exc}") from None
        return
    try:
        engine.images.get(image)
    except docker.errors.ImageNotFound:
        log(f"pulling {image}")
        try:
            engine.images.pull(image)
        except docker.errors.DockerException as exc:
            raise DeploymentError(f"image {image} is not on the engine and could not be pulled: {exc}") from None


def ensure_network(engine, name):
    if not engine.networks.list(names=[name]):
        engine.networks.create(name, driver="bridge", labels={f"{LABEL}.network": name})


def start(engine, entry, network_name, service_name):
    """(Re)create and start the container for an entry; a running container
    with the same configuration is kept."""
    existing = container_of(engine, entry["labels"][f"{LABEL}.environment"], service_name)
    if existing is not None:
        same = existing.labels.get(f"{LABEL}.config") == entry["labels"][f"{LABEL}.config"]
        if same and existing.status == "running":
            return existing, False
        existing.remove(force=True)
    try:
        container = engine.containers.create(**run_arguments(entry, network_name, service_name, engine))
        container.start()
    except docker.errors.DockerException as exc:
        raise DeploymentError(f"{service_name}: the engine could not start it: {exc}") from None
    container.reload()
    return container, True


def remove(container, timeout=10):
    try:
        container.stop(timeout=timeout)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError:
        pass  # already stopped or dying: removal below settles it
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass


@dataclass
class ServiceLocation:
    """Where a deployed service is: its container and the address to reach it."""

    name: str
    environment: str
    container_id: str
    container_name: str
    state: str
    host: str  # "" when it has no reachable address (network none, stopped)
    ports: tuple  # its container ports, from the service file
    image: str = ""  # the image id the container runs
    variables: dict = field(default_factory=dict)  # its environment variables
    started_at: str = ""  # when it last started (a restart gives it a new network namespace)

    @property
    def port(self):
        return self.ports[0] if self.ports else None

    def address(self, port=None):
        port = port or self.port
        return f"{self.host}:{port}" if self.host and port else ""


def locate(container):
    """Host networking: loopback. A container network: its address there
    (reachable from the Docker host and from the other services)."""
    attrs = container.attrs
    mode = attrs["HostConfig"].get("NetworkMode", "")
    host = ""
    if mode == "host":
        host = "127.0.0.1"
    else:
        for network in (attrs.get("NetworkSettings", {}).get("Networks") or {}).values():
            if network.get("IPAddress"):
                host = network["IPAddress"]
                break
    labels = container.labels
    ports = tuple(int(p) for p in labels.get(f"{LABEL}.ports", "").split(",") if p)
    variables = dict(item.partition("=")[::2] for item in (attrs.get("Config") or {}).get("Env") or [])
    return ServiceLocation(
        name=labels.get(f"{LABEL}.service", ""), environment=labels.get(f"{LABEL}.environment", ""),
        container_id=container.id, container_name=container.name, state=container.status, host=host, ports=ports,
        image=attrs.get("Image", ""), variables=variables, started_at=(attrs.get("State") or {}).get("StartedAt", ""),
    )


def policies(container):
    """The health check and restart policy a container was started with."""
    labels = container.labels
    try:
        health = json.loads(labels[f"{LABEL}.health"])
        health["command"] = tuple(health["command"])
        return HealthCheck(**health), RestartPolicy(**json.loads(labels[f"{LABEL}.restart"]))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{container.name}: {exc}") from None


def probe(health, container):
    """One health check: (healthy, detail, latency in ms)."""
    started = time.monotonic()
    container.reload()
    if container.status != "running":
        code = container.attrs.get("State", {}).get("ExitCode")
        return False, f"container {container.status} (exit code {code})", 0
    try:
        if health.kind == "command":
            result = container.exec_run(list(health.command), demux=False)
            healthy = result.exit_code == 0
            output = (result.output or b"").decode(errors="replace").strip()[-200:]
            detail = f"exit {result.exit_code}" + (f": {output}" if output else "")
        else:
            host = locate(container).host
            if not host:
                return False, f"no address to probe {health.describe()} (network none)", 0
            if health.kind == "tcp":
                with socket.create_connection((host, health.port), timeout=health.timeout_seconds):
                    pass
                healthy, detail = True, f"tcp {host}:{health.port} open"
            else:
                url = f"http://{host}:{health.port}{health.path}"
                with urllib.request.urlopen(url, timeout=health.timeout_seconds) as response:
                    healthy, detail = 200 <= response.status < 400, f"GET {url}: {response.status}"
    except (OSError, urllib.error.URLError, docker.errors.DockerException) as exc:
        healthy, detail = False, f"{health.describe()}: {exc}"
    return healthy, detail, int((time.monotonic() - started) * 1000)
