"""Deployment actions: every state change of a deployed service is one
function here (the command, the admin action and the monitor task call
them), and `find_service`, by which the rest of abf finds a service.
"""
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import DatabaseError, transaction
from django.utils import timezone

from deployment import engine as engines
from deployment.catalog import DeploymentError
from deployment.models import Alert, HealthRecord, Restart, Service

log = logging.getLogger(__name__)
HEALTH_HISTORY_DAYS = 7


def _quiet(message):
    log.info(message)


def _service_row(deployment, name):
    row, _ = Service.objects.get_or_create(
        environment=deployment.name, name=name, defaults={"group": deployment.definitions[name].group}
    )
    return row


def up(deployment, targets=(), engine=None, say=_quiet, timeout=None):
    """Start the targets (and what they depend on) in dependency order, each
    once its dependencies are healthy, and wait until it is healthy itself."""
    engine = engine or engines.client()
    names = deployment.select(targets)
    deployment.write()
    if any("networks" in deployment.services[n] for n in names):
        engines.ensure_network(engine, deployment.network_name)
    built = set()
    for name in names:
        definition, entry = deployment.definitions[name], deployment.services[name]
        engines.ensure_image(engine, entry, say, built)
        container, created = engines.start(engine, entry, deployment.network_name, name)
        say(f"{name}: {'started' if created else 'already running'} ({container.name}); waiting for {definition.health.describe()}")
        healthy, detail = wait_healthy(definition.health, container, timeout)
        _recorded(f"{name} started", lambda: _record_up(deployment, name, container, created, healthy, detail))
        if not healthy:
            raise DeploymentError(f"{name} did not become healthy: {detail}\n{tail_logs(container, 20)}")
        say(f"{name}: healthy ({detail})")
    return names


def _record_up(deployment, name, container, created, healthy, detail):
    now = timezone.now()
    with transaction.atomic():
        row = _service_row(deployment, name)
        row.group, row.desired_state, row.container_id = deployment.definitions[name].group, Service.RUNNING, container.id
        row.state, row.health, row.checked_at = container.status, Service.HEALTHY if healthy else Service.UNHEALTHY, now
        row.failures_in_a_row, row.given_up_at = 0 if healthy else 1, None
        if created:
            row.started_at = now
        row.save()
        HealthRecord.objects.create(service=row, checked_at=now, state=container.status, healthy=healthy, detail=detail)


def _recorded(what, write):
    """Deploying abf's own database comes before that database exists (the
    deployer's DATABASE_URL may name a host only the containers reach): the
    engine's labels say what runs, the records are kept where they can be."""
    try:
        return write()
    except DatabaseError as exc:
        log.warning("deployment: %s, not recorded (%s)", what, exc)


def wait_healthy(health, container, timeout=None):
    """Probe until healthy, or until the start period plus `retries` intervals
    (or `timeout` seconds) have passed."""
    limit = timeout if timeout is not None else health.start_period_seconds + health.retries * health.interval_seconds
    deadline = time.monotonic() + limit
    while True:
        healthy, detail, _ = engines.probe(health, container)
        if healthy or time.monotonic() >= deadline or container.status not in ("running", "created"):
            return healthy, detail
        time.sleep(min(0.2, max(health.interval_seconds, 0.05)))


def down(deployment, targets=(), engine=None, say=_quiet):
    """Stop and remove the targets' containers, dependants first. With no
    targets the whole environment, its network included."""
    engine = engine or engines.client()
    order = list(reversed(deployment.select(targets, with_dependencies=False)))
    if not targets:
        # Containers of services no longer defined (or disabled) are this environment's too.
        labelled = {c.labels.get(f"{engines.LABEL}.service") for c in engines.containers(engine, deployment.name)}
        order += sorted(labelled - set(order))
    for name in order:
        _recorded(f"{name} removed", lambda: Service.objects.filter(environment=deployment.name, name=name).update(
            desired_state=Service.STOPPED, state="removed", container_id=""
        ))
        container = engines.container_of(engine, deployment.name, name)
        if container is not None:
            engines.remove(container)
            say(f"{name}: stopped and removed")
    if not targets:
        for network in engine.networks.list(names=[deployment.network_name]):
            network.remove()
    return order


def down_by_labels(environment, engine=None, say=_quiet):
    """Remove an environment's containers when its services cannot be
    rendered (a broken template, a missing variable): the labels say what
    is there, the newest (the dependants) first."""
    engine = engine or engines.client()
    found = sorted(engines.containers(engine, environment), key=lambda c: c.attrs.get("Created", ""), reverse=True)
    names = []
    for container in found:
        name = container.labels.get(f"{engines.LABEL}.service", container.name)
        _recorded(f"{name} removed", lambda: Service.objects.filter(environment=environment, name=name).update(
            desired_state=Service.STOPPED, state="removed", container_id=""
        ))
        engines.remove(container)
        say(f"{name}: stopped and removed")
        names.append(name)
    for network in engine.networks.list(names=[f"abf-{environment}"]):
        network.remove()
    return names


def restart(deployment, targets=(), engine=None, by="deploy restart", say=_quiet, timeout=None):
    """Restart the targets in dependency order and wait for their health."""
    engine = engine or engines.client()
    names = deployment.select(targets, with_dependencies=False)
    for name in names:
        container = engines.container_of(engine, deployment.name, name)
        if container is None:
            raise DeploymentError(f"{name} is not deployed in {deployment.name}: use deploy up")
        row = _recorded("restart", lambda: _service_row(deployment, name))
        if row is None:
            container.restart(timeout=10)
        else:
            restart_container(row, container, reason=f"asked by {by}", by=by)
        healthy, detail = wait_healthy(deployment.definitions[name].health, container, timeout)
        say(f"{name}: restarted, {'healthy' if healthy else 'not healthy'} ({detail})")
    return names


def restart_container(row, container, reason, by, now=None):
    """Restart one container and record it; a manual restart also lifts a
    given-up policy (the admin decided to try again)."""
    now = now or timezone.now()
    try:
        container.restart(timeout=10)
        succeeded = True
    except Exception as exc:  # the engine's error is the record's reason
        succeeded, reason = False, f"{reason}; restart failed: {exc}"
    with transaction.atomic():
        Restart.objects.create(service=row, at=now, reason=reason, by=by, succeeded=succeeded)
        row.started_at, row.failures_in_a_row = now, 0
        row.desired_state = Service.RUNNING
        if by != "monitor":
            row.given_up_at = None
        row.save()
    return succeeded


def restart_service(row, by):
    """The admin action: restart a deployed service's container."""
    engine = engines.client()
    container = engines.container_of(engine, row.environment, row.name)
    if container is None:
        raise DeploymentError(f"{row.name} has no container in {row.environment}: use deploy up")
    return restart_container(row, container, reason=f"restarted by {by} in admin", by=by)


@dataclass
class StatusRow:
    service: str
    group: str
    state: str
    health: str
    restarts: int
    uptime: str
    ports: str


def status(deployment, targets=(), engine=None, now=None):
    engine = engine or engines.client()
    now = now or timezone.now()
    rows = []
    for name in deployment.select(targets, with_dependencies=False):
        definition = deployment.definitions[name]
        container = engines.container_of(engine, deployment.name, name)
        record = _recorded("status", lambda: Service.objects.filter(environment=deployment.name, name=name).first())
        restarts = record.restarts.count() if record else 0
        if container is None:
            rows.append(StatusRow(name, definition.group, "not deployed", "-", restarts, "-", "-"))
            continue
        started = container.attrs.get("State", {}).get("StartedAt", "")
        running = container.status == "running"
        uptime = _uptime(started, now) if running else "-"
        health = _live_health(definition.health, container) if running else "-"
        if record and record.given_up_at:
            health += " (given up)"
        rows.append(StatusRow(name, definition.group, container.status, health, restarts, uptime, _ports(container)))
    return rows


def _live_health(health, container):
    """The engine's own view for command checks it runs; else a probe now."""
    engine_view = (container.attrs.get("State", {}).get("Health") or {}).get("Status")
    if health.kind == "command" and engine_view:
        return engine_view
    healthy, _, _ = engines.probe(health, container)
    return Service.HEALTHY if healthy else Service.UNHEALTHY


def _ports(container):
    """What the container really publishes; on the host's network, the ports
    its process listens on (at the address its command was given)."""
    if container.attrs["HostConfig"].get("NetworkMode") == "host":
        return ", ".join(f"{p} (host network)" for p in engines.locate(container).ports) or "-"
    bindings = container.attrs["HostConfig"].get("PortBindings") or {}
    published = [
        f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}->{port.split('/')[0]}"
        for port, binds in sorted(bindings.items()) for b in binds or []
    ]
    return ", ".join(published) or "-"


def _uptime(started_at, now):
    from django.utils.dateparse import parse_datetime

    started = parse_datetime(started_at[:26].rstrip("Z") + "+00:00") if started_at else None
    if started is None:
        return "-"
    total = max(int((now - started).total_seconds()), 0)
    hours, rest = divmod(total, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def tail_logs(container, lines=100):
    return container.logs(tail=lines).decode(errors="replace")


def monitor_services(now=None, engine=None):
    """One monitor pass over every abf container on the engine (the engine's
    labels say what is deployed, so the worker of a deployed abf adopts what
    `deploy up` started): record its health, and apply its restart policy
    when it has failed. A removed container was meant to go (deploy down)
    and is not brought back. Returns [(service, what happened)]."""
    now = now or timezone.now()
    try:
        engine = engine or engines.client()
    except DeploymentError as exc:
        expected = Service.objects.filter(desired_state=Service.RUNNING).exists()
        (log.error if expected else log.debug)("deployment monitor: %s", exc)
        return []
    outcomes, seen = [], set()
    for container in engines.containers(engine):
        labels = container.labels
        environment, name = labels.get(f"{engines.LABEL}.environment"), labels.get(f"{engines.LABEL}.service")
        if not environment or not name:
            continue
        row, _ = Service.objects.get_or_create(
            environment=environment, name=name, defaults={"group": labels.get(f"{engines.LABEL}.group", "")}
        )
        seen.add(row.pk)
        try:
            health, policy = engines.policies(container)
        except ValueError as exc:
            outcomes.append((name, f"labels unreadable: {exc}"))
            continue
        outcomes.append((name, _check(row, container, health, policy, now)))
    Service.objects.filter(desired_state=Service.RUNNING).exclude(pk__in=seen).update(
        desired_state=Service.STOPPED, state="removed", container_id=""
    )
    HealthRecord.objects.filter(checked_at__lt=now - timedelta(days=HEALTH_HISTORY_DAYS)).delete()
    return outcomes


def _check(row, container, health, policy, now):
    healthy, detail, latency = engines.probe(health, container)
    state, exit_code = container.status, container.attrs.get("State", {}).get("ExitCode")
    with transaction.atomic():
        HealthRecord.objects.create(service=row, checked_at=now, state=state, healthy=healthy, detail=detail, latency_ms=latency)
        row.state, row.checked_at, row.container_id = state, now, container.id
        row.desired_state = Service.RUNNING
        row.failures_in_a_row = 0 if healthy else row.failures_in_a_row + 1
        row.health = Service.HEALTHY if healthy else Service.UNHEALTHY
        row.save()
    if healthy:
        return "healthy"
    if state == "running" and row.failures_in_a_row < health.retries:
        return f"unhealthy ({row.failures_in_a_row} of {health.retries})"
    return _apply_policy(row, policy, container, state, exit_code, detail, now)


def _apply_policy(row, policy, container, state, exit_code, detail, now):
    if policy.policy == "no":
        return "failed; restart policy no"
    if policy.policy == "on-failure" and state == "exited" and exit_code == 0:
        return "exited cleanly; on-failure does not restart it"
    if row.given_up_at:
        return "failed; restarts given up"
    recent = list(row.restarts.filter(by="monitor", at__gt=now - timedelta(seconds=policy.window_seconds)).order_by("at"))
    if len(recent) >= policy.max_restarts:
        return _give_up(row, policy, len(recent), detail, now)
    if recent:
        due = recent[-1].at + timedelta(seconds=policy.backoff_seconds * 2 ** (len(recent) - 1))
        if now < due:
            return f"failed; next restart after backoff at {due:%H:%M:%S}"
    reason = f"{detail} (restart {len(recent) + 1} of {policy.max_restarts} in {policy.window_seconds:g} s)"
    restart_container(row, container, reason, by="monitor", now=now)
    log.warning("deployment monitor restarted %s: %s", row, reason)
    return "restarted"


def _give_up(row, policy, count, detail, now):
    message = (
        f"{row.name} ({row.environment}) keeps failing: restarted {count} times within "
        f"{policy.window_seconds:g} s, its limit; abf stops restarting it. Last check: {detail}"
    )
    with transaction.atomic():
        row.given_up_at = now
        row.save(update_fields=["given_up_at"])
        Alert.objects.create(service=row, raised_at=now, message=message)
    log.error("deployment alert: %s", message)
    mail_admins(f"abf service {row.name} stopped being restarted", message, fail_silently=True)
    return "gave up; alert raised"


def find_service(name, environment=None, engine=None):
    """Where the service `name` of a deployed environment runs (default
    ABF_DEPLOY_ENV), as a ServiceLocation, or None when it is not deployed.

        location = find_service("executor-read")
        location.container_name, location.address()  # e.g. "abf-production-executor-read", "172.18.0.5:8888"
    """
    engine = engine or engines.client()
    container = engines.container_of(engine, environment or settings.ABF_DEPLOY_ENV, name)
    return engines.locate(container) if container is not None else None
