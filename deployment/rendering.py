"""One environment's deployment, rendered: the render context (settings,
environment variables, the environment's overlay of values), every enabled
service's templates, and one standard compose file per group, validated
against the Compose Specification schema.

`load_deployment(name)` does it all in memory and raises DeploymentError on
any bad input, so nothing is started or written from bad material;
`Deployment.write()` puts the files in build/<environment>/.
"""
import functools
import hashlib
import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import yaml
from django.conf import settings
from django.db import DatabaseError

from execution.container_image import PYTHON_IN_IMAGE

from deployment.catalog import (
    COMPOSE_TEMPLATE, NAME, NETWORK_MODES, DeploymentError, build_definition, check_dependencies, deep_merge,
    dependency_order, parse_yaml, read_raw_definitions, render_template, service_roots,
)

ENVIRONMENT_FIELDS = {"description", "network_mode", "groups", "values", "services"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE", re.IGNORECASE)
MASK = "********"
LABEL = "org.abf"
# Keys a service's compose.yml.j2 may add: the ones `deploy up` can also run
# through the engine, so the compose file and abf's own driver agree.
TEMPLATE_KEYS = {
    "command", "entrypoint", "environment", "volumes", "user", "working_dir", "read_only", "tmpfs",
    "cap_drop", "cap_add", "security_opt", "mem_limit", "pids_limit", "stop_signal", "init", "shm_size",
    "group_add",
}
# Environment variables the templates see: abf's own and the ones its settings read.
PASSED_VARIABLES = re.compile(r"^(ABF_\w+|DATABASE_URL|REDIS_URL|DOCKER_HOST|\w+_API_KEY)$")
SCHEMA_PATH = Path(__file__).resolve().parent / "compose_spec.json"
log = logging.getLogger(__name__)


@dataclass
class Environment:
    name: str
    source: str
    description: str = ""
    network_mode: str = ""
    values: dict = field(default_factory=dict)
    services: dict = field(default_factory=dict)
    groups: list = field(default_factory=list)  # only these groups; empty: all


def parse_environment(name, data, source):
    """Validate an environment overlay (from a file or an admin's row)."""
    if not NAME.match(name):
        raise DeploymentError(f"{source}: environment name {name!r} must be lower-case letters, digits and '-'")
    data = data or {}
    if not isinstance(data, dict):
        raise DeploymentError(f"{source}: must be a mapping (description, network_mode, groups, values, services)")
    unknown = set(data) - ENVIRONMENT_FIELDS
    if unknown:
        raise DeploymentError(f"{source}: field '{sorted(unknown)[0]}': unknown (known: {', '.join(sorted(ENVIRONMENT_FIELDS))})")
    network_mode = data.get("network_mode") or ""
    if network_mode not in NETWORK_MODES:
        raise DeploymentError(f"{source}: field 'network_mode': {network_mode!r} is not host, none or empty (the shared network)")
    for key in ("values", "services"):
        if not isinstance(data.get(key) or {}, dict):
            raise DeploymentError(f"{source}: field '{key}': must be a mapping")
    groups = data.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise DeploymentError(f"{source}: field 'groups': must be a list of group names")
    for service, overrides in (data.get("services") or {}).items():
        if not isinstance(overrides, dict):
            raise DeploymentError(f"{source}: field 'services.{service}': must be a mapping of service fields")
    return Environment(
        name=name, source=str(source), description=str(data.get("description") or ""),
        network_mode=network_mode, values=data.get("values") or {}, services=data.get("services") or {},
        groups=groups,
    )


def environments():
    """name -> Environment: environments/<name>.yml at every service root (a
    later root overrides), then the ones admins add in Django admin."""
    from deployment.models import DeploymentEnvironment

    found = {}
    for root in service_roots():
        for path in sorted((root / "environments").glob("*.yml")):
            found[path.stem] = parse_environment(path.stem, parse_yaml(path.read_text(), path), path)
    try:
        rows = list(DeploymentEnvironment.objects.all())
    except DatabaseError as exc:
        # Deploying abf's own database comes before that database exists.
        log.warning("environments added in admin are not available (%s); using the files only", exc)
        rows = []
    for row in rows:
        found[row.name] = row.as_environment()
    return found


def get_environment(name):
    available = environments()
    if name not in available:
        raise DeploymentError(f"no environment {name!r} (available: {', '.join(sorted(available)) or 'none'})")
    return available[name]


def _url_parts(url):
    parts = urlsplit(url or "")
    return {
        "scheme": parts.scheme, "user": unquote(parts.username or ""), "password": unquote(parts.password or ""),
        "quoted_password": parts.password or "",
        "host": parts.hostname or "", "port": parts.port or "", "name": parts.path.lstrip("/"), "url": url or "",
    }


def require(value, message):
    """Templates call require(x, "why") for values an environment must have."""
    if not value:
        raise DeploymentError(message)
    return value


def render_context(environment, expose):
    passed = {k: v for k, v in os.environ.items() if PASSED_VARIABLES.match(k)}
    values = environment.values
    database_url = os.environ.get("DATABASE_URL") or values.get("database_url") or settings.DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or values.get("redis_url") or ""
    # The deployer's own paths and choices stay on the deployer's machine.
    app_environment = {
        k: v for k, v in passed.items()
        if k not in ("DOCKER_HOST", "ABF_SERVICE_PATHS", "ABF_VAR_DIR") and not k.startswith("ABF_DEPLOY_")
    }
    app_environment.update({
        "DATABASE_URL": database_url, "ABF_SECRET_KEY": settings.SECRET_KEY, "ABF_DEPLOY_ENV": environment.name,
    })
    if redis_url:
        app_environment["REDIS_URL"] = redis_url
    app_environment.update({str(k): str(v) for k, v in (values.get("app_environment") or {}).items()})
    return {
        "environment": environment.name,
        "values": values,
        "settings": settings,
        "env": passed,
        "project_dir": str(settings.BASE_DIR),
        "database_url": database_url,
        "database": _url_parts(database_url),
        "redis_url": redis_url,
        "redis": _url_parts(redis_url),
        "secret_key": settings.SECRET_KEY,
        "executor_image": settings.ABF_EXECUTOR_IMAGE,
        "executor_python": PYTHON_IN_IMAGE,
        "app_environment": app_environment,
        "network_mode": environment.network_mode,
        "expose": expose,
        "listen_address": listen_address(environment.network_mode, expose),
        "publish_address": "0.0.0.0" if expose else "127.0.0.1",
        "require": require,
    }


def listen_address(network_mode, expose):
    """Where a service's own process listens. On the host's network the
    process itself decides who can reach it (nothing is published); inside
    a container network the published port decides."""
    if network_mode == "host":
        return "0.0.0.0" if expose else "127.0.0.1"
    return "0.0.0.0"


def secrets_in(context):
    """Every value render output must not show: the secret key, passwords in
    the URLs, and variables and values whose names say they are secret."""
    found = {context["secret_key"]}
    for url in (context["database"], context["redis"]):
        found.update((url["password"], url["quoted_password"]))
    found.update(v for k, v in context["env"].items() if SECRET_NAME.search(k))
    found.update(v for k, v in context["app_environment"].items() if SECRET_NAME.search(k))

    def walk(mapping):
        for key, value in mapping.items():
            if isinstance(value, dict):
                walk(value)
            elif SECRET_NAME.search(str(key)) and value not in (None, ""):
                found.add(str(value))

    walk(context["values"])
    return sorted((s for s in found if s), key=len, reverse=True)


def mask(value, secrets):
    """Secrets replaced in a text, or in every string of a compose document
    (before it is dumped, so YAML quoting cannot hide one)."""
    if isinstance(value, dict):
        return {k: mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
    return value


def dump_compose(document):
    return yaml.safe_dump(document, sort_keys=False, width=1000)


@dataclass
class Deployment:
    environment: Environment
    expose: bool
    definitions: dict  # name -> ServiceDefinition (enabled ones)
    services: dict  # name -> compose service entry
    files: dict  # relative path under build/<env>/ -> text
    documents: dict  # compose file path -> its document
    secrets: list
    build_root: Path

    @property
    def name(self):
        return self.environment.name

    @property
    def network_name(self):
        return f"abf-{self.name}"

    @property
    def groups(self):
        return sorted({d.group for d in self.definitions.values()})

    def compose_path(self, group):
        return f"compose-{group}.yml"

    def select(self, targets, with_dependencies=True):
        """Service names for GROUP or SERVICE targets (all when none), in
        dependency order; with what they depend on unless told otherwise."""
        if not targets:
            names = list(self.definitions)
        else:
            names = []
            for target in targets:
                matched = [n for n, d in self.definitions.items() if target in (n, d.group)]
                if not matched:
                    raise DeploymentError(
                        f"{target!r} is neither a service nor a group of environment {self.name!r} "
                        f"(services: {', '.join(sorted(self.definitions))}; groups: {', '.join(self.groups)})"
                    )
                names += [n for n in matched if n not in names]
        order = dependency_order(self.definitions, sorted(names))
        return order if with_dependencies else [n for n in order if n in names]

    def shown(self, relative_path):
        """A rendered file as the user may see it: secrets masked."""
        if relative_path in self.documents:
            return dump_compose(mask(self.documents[relative_path], self.secrets))
        return mask(self.files[relative_path], self.secrets)

    def write(self):
        """Write every file to build/<environment>/ (the real values: files
        holding a secret are readable by their owner only)."""
        folder = self.build_root / self.name
        written = []
        for relative, text in sorted(self.files.items()):
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            secret = any(s in text for s in self.secrets)
            # Created (or truncated) owner-only before a secret is written.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(text)
            if not secret:
                path.chmod(0o644)
            written.append(path)
        return written


def load_deployment(environment_name, expose=False):
    """Render one environment completely in memory; DeploymentError on any problem."""
    environment = get_environment(environment_name)
    context = render_context(environment, expose)
    definitions, raw_definitions = {}, read_raw_definitions(context)
    for name, (raw, source) in raw_definitions.items():
        raw = deep_merge(raw, environment.services.get(name))
        if raw.get("enabled", True) is False:
            continue
        definition = build_definition(raw, source)
        if not environment.groups or definition.group in environment.groups:
            definitions[name] = definition
    unknown = set(environment.services) - set(raw_definitions)
    if unknown:
        raise DeploymentError(f"{environment.source}: field 'services.{sorted(unknown)[0]}': no such service")
    check_dependencies(definitions)

    build_root = Path(settings.ABF_DEPLOY_BUILD_DIR)
    files, services = {}, {}
    for name, definition in definitions.items():
        build_dir = build_root / environment.name / name
        network_mode = environment.network_mode if definition.network_mode is None else definition.network_mode
        service_context = {
            **context, "service": {"name": name, "group": definition.group}, "build_dir": str(build_dir),
            "network_mode": network_mode, "listen_address": listen_address(network_mode, expose),
        }
        extra = {}
        for template in sorted(definition.folder.glob("*.j2")):
            text = render_template(template, service_context)
            if template.name == COMPOSE_TEMPLATE:
                extra = _compose_keys(parse_yaml(text, template), template)
            else:
                files[f"{name}/{template.name[:-3]}"] = text
        services[name] = compose_service(definition, extra, environment, service_context, definitions)

    deployment = Deployment(environment, expose, definitions, services, files, {}, secrets_in(context), build_root)
    for group in deployment.groups:
        document = compose_document(deployment, group)
        validate_compose(document, f"{deployment.compose_path(group)} (environment {environment.name})")
        deployment.documents[deployment.compose_path(group)] = document
        files[deployment.compose_path(group)] = dump_compose(document)
    return deployment


def _compose_keys(data, template):
    data = data or {}
    if not isinstance(data, dict):
        raise DeploymentError(f"{template}: must render to a mapping of compose service keys")
    unsupported = set(data) - TEMPLATE_KEYS
    if unsupported:
        raise DeploymentError(
            f"{template}: key '{sorted(unsupported)[0]}' is not one a template may set "
            f"(allowed: {', '.join(sorted(TEMPLATE_KEYS))}; the rest comes from service.yml)"
        )
    return data


def compose_service(definition, extra, environment, context, definitions):
    """The compose entry of one service: what service.yml says, plus the keys
    its compose.yml.j2 adds."""
    entry = {
        "container_name": f"abf-{environment.name}-{definition.name}",
        "image": definition.image or f"abf-{environment.name}-{definition.name}:latest",
    }
    if definition.build:
        dockerfile = definition.build["dockerfile"]
        rendered = Path(context["build_dir"]) / dockerfile
        source = definition.folder / dockerfile
        entry["build"] = {
            "context": str((Path(context["project_dir"]) / definition.build["context"]).resolve()),
            "dockerfile": str(rendered if (definition.folder / f"{dockerfile}.j2").exists() else source.resolve()),
        }
    entry.update(extra)
    same_group = [d for d in definition.depends_on if definitions[d].group == definition.group]
    if same_group:
        entry["depends_on"] = {
            d: {"condition": "service_healthy" if definitions[d].health.kind == "command" else "service_started"}
            for d in same_group
        }
    health = definition.health
    if health.kind == "command":
        # Compose runs only in-container checks; http and tcp checks are
        # probed by abf itself (deploy up and the monitor).
        entry["healthcheck"] = {
            "test": ["CMD", *health.command],
            "interval": f"{health.interval_seconds}s", "timeout": f"{health.timeout_seconds}s",
            "retries": health.retries, "start_period": f"{health.start_period_seconds}s",
        }
    entry["restart"] = definition.restart.compose_value()
    if context["network_mode"]:
        entry["network_mode"] = context["network_mode"]
    else:
        entry["networks"] = ["abf"]
    if definition.ports and not context["network_mode"]:
        # Published on loopback unless --expose. On the host's network the
        # engine (and compose) refuse port bindings (the process listens on
        # listen_address itself); with no network there is nothing to publish.
        entry["ports"] = [f"{context['publish_address']}:{host}:{container}" for host, container in definition.ports]
    entry["labels"] = {
        f"{LABEL}.environment": environment.name,
        f"{LABEL}.group": definition.group,
        f"{LABEL}.service": definition.name,
        f"{LABEL}.ports": ",".join(str(c) for _, c in definition.ports),
        # The monitor acts on what was started, without the service files.
        f"{LABEL}.health": json.dumps(asdict(definition.health), sort_keys=True),
        f"{LABEL}.restart": json.dumps(asdict(definition.restart), sort_keys=True),
    }
    entry["labels"][f"{LABEL}.config"] = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()[:16]
    return entry


def compose_document(deployment, group):
    names = [n for n in deployment.select([]) if deployment.definitions[n].group == group]
    outside = sorted({
        deployment.definitions[d].group for n in names for d in deployment.definitions[n].depends_on
    } - {group})
    document = {"x-abf": {"environment": deployment.name, "group": group}}
    if outside:
        document["x-abf"]["start_after_groups"] = outside
    document["services"] = {n: deployment.services[n] for n in names}
    volumes = sorted({
        volume.split(":", 1)[0] for n in names for volume in deployment.services[n].get("volumes", [])
        if not volume.startswith(("/", ".", "~"))
    })
    if volumes:
        document["volumes"] = {v: {"name": v} for v in volumes}
    if any("networks" in deployment.services[n] for n in names):
        # One network shared by every group of the environment; `deploy up`
        # creates it (with plain compose: docker network create abf-<env>).
        document["networks"] = {"abf": {"name": deployment.network_name, "external": True}}
    return document


def _duration(value):
    return isinstance(value, str) and re.fullmatch(r"(\d+(\.\d+)?(us|ms|s|m|h))+", value) is not None


@functools.lru_cache(maxsize=1)
def compose_validator():
    checker = jsonschema.FormatChecker()
    checker.checks("duration")(_duration)
    checker.checks("ports")(lambda v: re.fullmatch(r"((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(\d+(-\d+)?:)?\d+(-\d+)?(/(tcp|udp))?", str(v)) is not None)
    checker.checks("expose")(lambda v: re.fullmatch(r"\d+(-\d+)?(/(tcp|udp))?", str(v)) is not None)
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft201909Validator(schema, format_checker=checker)


def validate_compose(document, label):
    """The Compose Specification schema, plus what compose checks beyond it."""
    errors = sorted(compose_validator().iter_errors(document), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.path) or "(top)"
        raise DeploymentError(f"{label}: not a valid compose file: at {where}: {first.message}")
    services = document.get("services", {})
    for name, entry in services.items():
        for dependency in entry.get("depends_on", {}):
            if dependency not in services:
                raise DeploymentError(f"{label}: service {name} depends on {dependency}, which is not in this file")
        for volume in entry.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith(("/", ".", "~")) and source not in document.get("volumes", {}):
                raise DeploymentError(f"{label}: service {name} uses volume {source}, which is not declared")
        if entry.get("network_mode") == "host" and entry.get("ports"):
            raise DeploymentError(f"{label}: service {name}: host networking cannot publish ports")
