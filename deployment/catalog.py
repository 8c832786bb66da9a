"""Service definitions: found by walking the service folders, rendered,
validated and put in dependency order.

A service is a folder with a `service.yml` (itself a Jinja2 template, so an
image can come from the settings) and optional `*.j2` templates. Folders are
found by walking each root of `service_roots()` in turn: the framework's own
`services/` first, then the application's (ABF_SERVICE_PATHS); a later root
overrides an earlier one by service name. Every problem is a DeploymentError
naming the file and the field, raised before anything is started.
"""
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml
from django.conf import settings

SERVICE_FILE = "service.yml"
COMPOSE_TEMPLATE = "compose.yml.j2"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RESTART_POLICIES = ("always", "on-failure", "no")
HEALTH_KINDS = ("http", "tcp", "command")
SERVICE_FIELDS = {
    "name", "group", "description", "image", "build", "depends_on", "health", "restart", "ports", "enabled", "network_mode",
}
# "" is the environment's own network (abf-ENV); a service may choose none or host.
NETWORK_MODES = ("", "host", "none")
HEALTH_FIELDS = {*HEALTH_KINDS, "interval_seconds", "timeout_seconds", "retries", "start_period_seconds"}
RESTART_FIELDS = {"policy", "max_restarts", "window_seconds", "backoff_seconds"}


class DeploymentError(Exception):
    """Bad service material or a failed deployment step, said plainly."""


@dataclass(frozen=True)
class HealthCheck:
    kind: str  # http, tcp or command
    port: int = None
    path: str = "/"
    command: tuple = ()
    interval_seconds: float = 10
    timeout_seconds: float = 5
    retries: int = 3
    start_period_seconds: float = 30

    def describe(self):
        if self.kind == "command":
            return "command " + " ".join(self.command)
        return f"{self.kind} :{self.port}{self.path if self.kind == 'http' else ''}"


@dataclass(frozen=True)
class RestartPolicy:
    policy: str  # always, on-failure or no
    max_restarts: int = 5
    window_seconds: float = 600
    backoff_seconds: float = 5

    def compose_value(self):
        """The nearest restart the engine itself offers (it has no window)."""
        return {"always": "always", "no": "no"}.get(self.policy, f"on-failure:{self.max_restarts}")


@dataclass
class ServiceDefinition:
    name: str
    group: str
    source: Path  # the service.yml it came from
    health: HealthCheck
    restart: RestartPolicy
    image: str = ""
    build: dict = None  # {"context": abs path, "dockerfile": abs path}
    depends_on: list = field(default_factory=list)
    ports: list = field(default_factory=list)  # [(host_port, container_port)]
    description: str = ""
    network_mode: str = None  # None: the environment's
    raw: dict = field(default_factory=dict)

    @property
    def folder(self):
        return self.source.parent


def service_roots():
    """Framework services first, then the application's, in override order."""
    roots = [Path(settings.BASE_DIR) / "services"]
    roots += [Path(p) for p in settings.ABF_SERVICE_PATHS]
    return roots


def find_service_files(roots):
    """Every service.yml under each root, walking the tree in a stable order."""
    found = []
    for root in roots:
        if not root.is_dir():
            continue
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "environments")
            if SERVICE_FILE in files:
                found.append((root, Path(folder) / SERVICE_FILE))
    return found


def jinja_environment(folder):
    # A service's templates may include templates of its own folder or of
    # the folder above (shared by sibling services).
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(folder), str(folder.parent)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render_template(path, context):
    """Render one template; any error names the template and its line."""
    try:
        template = jinja_environment(path.parent).get_template(path.name)
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise DeploymentError(f"{path}: line {exc.lineno}: template error: {exc.message}") from None
    except Exception as exc:  # undefined variable, a failed require(), a filter error
        raise DeploymentError(f"{path}: line {_template_line(exc, path)}: template error: {exc}") from None


def _template_line(exc, path):
    """Jinja2 rewrites tracebacks so a template's frames carry its own lines."""
    line, tb = "?", exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def parse_yaml(text, source):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise DeploymentError(f"{source}: {where}not valid YAML: {getattr(exc, 'problem', exc)}") from None


def read_raw_definitions(context):
    """name -> (raw dict, source path): every service file rendered and parsed,
    a later root overriding an earlier one by name."""
    chosen, seen_in_root = {}, {}
    for root, path in find_service_files(service_roots()):
        raw = parse_yaml(render_template(path, context), path)
        if not isinstance(raw, dict):
            raise DeploymentError(f"{path}: must be a mapping of fields (name, group, image or build, health, restart, ...)")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise DeploymentError(f"{path}: missing required field 'name'")
        if (root, name) in seen_in_root:
            raise DeploymentError(f"{path}: service '{name}' is already defined in {seen_in_root[(root, name)]}")
        seen_in_root[(root, name)] = path
        chosen[name] = (raw, path)
    return chosen


def deep_merge(base, overlay):
    merged = dict(base)
    for key, value in (overlay or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def build_definition(raw, source):
    """Validate one service file's fields into a ServiceDefinition."""

    def fail(field_name, problem):
        raise DeploymentError(f"{source}: field '{field_name}': {problem}")

    unknown = set(raw) - SERVICE_FIELDS
    if unknown:
        fail(sorted(unknown)[0], f"unknown field (known: {', '.join(sorted(SERVICE_FIELDS))})")
    for required in ("name", "group", "health", "restart"):
        if raw.get(required) in (None, ""):
            raise DeploymentError(f"{source}: missing required field '{required}'")
    if not raw.get("image") and not raw.get("build"):
        raise DeploymentError(f"{source}: missing required field 'image' (or 'build')")
    for key in ("name", "group"):
        if not isinstance(raw[key], str) or not NAME.match(raw[key]):
            fail(key, f"{raw[key]!r} must be lower-case letters, digits and '-'")

    network_mode = raw.get("network_mode")
    if network_mode is not None and network_mode not in NETWORK_MODES[1:]:
        fail("network_mode", f"{network_mode!r} is not none or host (leave it out for the environment's network)")
    depends_on = raw.get("depends_on") or []
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        fail("depends_on", "must be a list of service names")

    return ServiceDefinition(
        name=raw["name"], group=raw["group"], source=source,
        image=str(raw.get("image") or ""), build=_build(raw.get("build"), source, fail),
        depends_on=list(depends_on), ports=_ports(raw.get("ports") or [], fail),
        health=_health(raw["health"], fail), restart=_restart(raw["restart"], fail),
        description=str(raw.get("description") or ""), network_mode=network_mode, raw=raw,
    )


def _number(value, field_name, fail, minimum=0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        fail(field_name, f"{value!r} must be a number of at least {minimum}")
    return value


def _health(spec, fail):
    if not isinstance(spec, dict):
        fail("health", "must be a mapping with one of http, tcp or command")
    unknown = set(spec) - HEALTH_FIELDS
    if unknown:
        fail(f"health.{sorted(unknown)[0]}", f"unknown field (known: {', '.join(sorted(HEALTH_FIELDS))})")
    kinds = [k for k in HEALTH_KINDS if k in spec]
    if len(kinds) != 1:
        fail("health", "needs exactly one of http, tcp or command")
    kind = kinds[0]
    timing = {
        key: _number(spec[key], f"health.{key}", fail, minimum=1 if key == "retries" else 0)
        for key in ("interval_seconds", "timeout_seconds", "retries", "start_period_seconds") if key in spec
    }
    if kind == "command":
        command = spec["command"]
        if isinstance(command, str):
            command = ["/bin/sh", "-c", command]
        if not isinstance(command, list) or not command or not all(isinstance(c, (str, int)) for c in command):
            fail("health.command", "must be a non-empty list of arguments (or one shell line)")
        return HealthCheck(kind, command=tuple(str(c) for c in command), **timing)
    probe = spec[kind]
    if isinstance(probe, int):
        probe = {"port": probe}
    if not isinstance(probe, dict) or "port" not in probe:
        fail(f"health.{kind}", "needs a port, e.g. {port: 8000" + (", path: /healthz}" if kind == "http" else "}"))
    port = _port_number(probe["port"], f"health.{kind}.port", fail)
    path = str(probe.get("path", "/"))
    if not path.startswith("/"):
        fail(f"health.{kind}.path", f"{path!r} must start with /")
    return HealthCheck(kind, port=port, path=path, **timing)


def _restart(spec, fail):
    if isinstance(spec, str):
        spec = {"policy": spec}
    if not isinstance(spec, dict) or "policy" not in spec:
        fail("restart", "needs a policy: always, on-failure or no")
    unknown = set(spec) - RESTART_FIELDS
    if unknown:
        fail(f"restart.{sorted(unknown)[0]}", f"unknown field (known: {', '.join(sorted(RESTART_FIELDS))})")
    policy = spec["policy"]
    if policy is False:  # YAML reads a bare `no` as false
        policy = "no"
    if policy not in RESTART_POLICIES:
        fail("restart.policy", f"{policy!r} is not one of always, on-failure, no")
    values = {
        key: _number(spec[key], f"restart.{key}", fail, minimum=1 if key == "max_restarts" else 0)
        for key in ("max_restarts", "window_seconds", "backoff_seconds") if key in spec
    }
    return RestartPolicy(policy, **values)


def _port_number(value, field_name, fail):
    try:
        port = int(value)
    except (TypeError, ValueError):
        fail(field_name, f"{value!r} is not a port number")
    if not 1 <= port <= 65535:
        fail(field_name, f"{port} is not a port number (1-65535)")
    return port


def _ports(ports, fail):
    """Ports as CONTAINER or HOST:CONTAINER. The address they bind to is not
    the service's to choose: 127.0.0.1 unless the deployment says --expose."""
    if not isinstance(ports, list):
        fail("ports", "must be a list of CONTAINER or HOST:CONTAINER")
    result = []
    for item in ports:
        parts = str(item).split(":")
        if len(parts) > 2:
            fail("ports", f"{item!r}: give HOST:CONTAINER only; the bind address is 127.0.0.1 unless --expose")
        numbers = [_port_number(p, "ports", fail) for p in parts]
        result.append((numbers[0], numbers[-1]))
    return result


def _build(spec, source, fail):
    """build: {context: folder relative to the project, dockerfile: a file of
    the service folder (or one its templates render)}."""
    if not spec:
        return None
    if not isinstance(spec, dict):
        fail("build", "must be a mapping with context and dockerfile")
    unknown = set(spec) - {"context", "dockerfile"}
    if unknown:
        fail(f"build.{sorted(unknown)[0]}", "unknown field (known: context, dockerfile)")
    return {"context": str(spec.get("context", ".")), "dockerfile": str(spec.get("dockerfile", "Dockerfile"))}


def check_dependencies(definitions):
    """Unknown dependencies and cycles are errors naming the services."""
    for definition in definitions.values():
        for dependency in definition.depends_on:
            if dependency not in definitions:
                raise DeploymentError(
                    f"{definition.source}: field 'depends_on': '{dependency}' is not a service "
                    f"(or is disabled in this environment)"
                )
    dependency_order(definitions, list(definitions))


def dependency_order(definitions, names):
    """The named services and everything they depend on, dependencies first."""
    order, state = [], {}

    def visit(name, path):
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name):] + [name]
            raise DeploymentError(
                f"dependency cycle: {' -> '.join(cycle)} (in {definitions[name].source})"
            )
        state[name] = "visiting"
        for dependency in definitions[name].depends_on:
            visit(dependency, path + [name])
        state[name] = "done"
        order.append(name)

    for name in names:
        visit(name, [])
    return order
