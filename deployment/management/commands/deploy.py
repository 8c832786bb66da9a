"""python manage.py deploy render|up|down|restart|status|logs [ENVIRONMENT] [GROUP|SERVICE...]"""
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from deployment import engine as engines
from deployment import services
from deployment.catalog import DeploymentError
from deployment.rendering import environments, load_deployment

ACTIONS = {
    "render": "Render every enabled service's templates into build/ENV/ (one compose file per group) "
    "and show them with secrets masked: exactly what `up` would run.",
    "up": "Start the groups or services (and what they depend on) in dependency order; each waits "
    "until its dependencies are healthy, and `up` waits until it is healthy itself.",
    "down": "Stop and remove the containers, dependants first (no targets: the whole environment and its network).",
    "restart": "Restart running services in dependency order and wait for their health.",
    "status": "A table of the services: state, health, restarts, uptime, ports.",
    "logs": "The last lines of each service's container log.",
}


class Command(BaseCommand):
    help = (
        "Deploy abf's services (the service folders under services/ and ABF_SERVICE_PATHS) on the "
        "Docker engine DOCKER_HOST names. Environments: dev, production, or one added in admin "
        "(Deployment environments). Ports bind to 127.0.0.1 unless --expose. "
        "Exit codes: 0 done, 1 an error (bad service file, dependency cycle, template error, the "
        "engine, a service not healthy), 2 usage. Run `deploy ACTION --help` for each action."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))
        for action, text in ACTIONS.items():
            sub = actions.add_parser(action, help=text, description=text, called_from_command_line=getattr(parser, "called_from_command_line", None))
            sub.add_argument(
                "targets", nargs="*", metavar="[ENVIRONMENT] GROUP|SERVICE",
                help="An environment name first (instead of --env), then groups or services; none means all.",
            )
            sub.add_argument(
                "--env", dest="environment", default=None,
                help=f"The environment (default: ABF_DEPLOY_ENV, now {settings.ABF_DEPLOY_ENV!r}).",
            )
            if action in ("render", "up"):
                sub.add_argument(
                    "--expose", action="store_true",
                    help="Bind published ports (and host-network listeners) to 0.0.0.0 instead of 127.0.0.1. "
                    "Only behind a firewall or an authenticating proxy.",
                )
            if action == "render":
                sub.add_argument("--no-write", action="store_true", help="Only show the files; do not write build/.")
            if action in ("up", "restart"):
                sub.add_argument(
                    "--timeout", type=float, default=None,
                    help="Seconds to wait for each service's health (default: its start period plus retries x interval).",
                )
            if action == "status":
                sub.add_argument("--json", action="store_true", help="One JSON object per service instead of the table.")
            if action == "logs":
                sub.add_argument("--tail", type=int, default=100, help="Lines per service (default 100).")

    def handle(self, action, targets, environment, **options):
        try:
            environment, targets = self._environment(environment, targets)
            try:
                deployment = load_deployment(environment, expose=options.get("expose", False))
            except DeploymentError as exc:
                if action != "down" or targets:
                    raise
                # Taking everything down must not depend on the templates.
                self.stderr.write(f"{exc}\nRemoving environment {environment}'s containers by their labels.")
                names = services.down_by_labels(environment, say=self.say)
                self.say(f"Down: {', '.join(names) or 'nothing was deployed'} ({environment}).")
                return
            return getattr(self, f"do_{action}")(deployment, targets, options)
        except DeploymentError as exc:
            raise CommandError(str(exc))

    def _environment(self, environment, targets):
        """`deploy up production web` and `deploy up --env production web` alike."""
        if environment is None and targets:
            known = environments()
            if targets[0] in known:
                return targets[0], targets[1:]
        return environment or settings.ABF_DEPLOY_ENV, targets

    def say(self, message):
        self.stdout.write(message)

    def do_render(self, deployment, targets, options):
        names = set(deployment.select(targets, with_dependencies=False))
        groups = {deployment.definitions[n].group for n in names}
        shown = [deployment.compose_path(g) for g in sorted(groups)]
        shown += sorted(p for p in deployment.files if p.split("/", 1)[0] in names)
        folder = deployment.build_root / deployment.name
        for path in shown:
            self.stdout.write(f"# {folder / path}")
            self.stdout.write(deployment.shown(path))
        if not options["no_write"]:
            written = deployment.write()
            self.stderr.write(f"Wrote {len(written)} files to {folder}/ (secrets masked above, real in the files).")

    def do_up(self, deployment, targets, options):
        names = services.up(deployment, targets, say=self.say, timeout=options["timeout"])
        self.say(f"Up: {', '.join(names)} ({deployment.name}).")

    def do_down(self, deployment, targets, options):
        names = services.down(deployment, targets, say=self.say)
        self.say(f"Down: {', '.join(names) or 'nothing was deployed'} ({deployment.name}).")

    def do_restart(self, deployment, targets, options):
        services.restart(deployment, targets, by="deploy restart", say=self.say, timeout=options["timeout"])

    def do_status(self, deployment, targets, options):
        rows = services.status(deployment, targets)
        if options["json"]:
            for row in rows:
                self.stdout.write(json.dumps(row.__dict__))
            return
        if not rows:
            self.stdout.write(f"No services in environment {deployment.name}.")
            return
        header = ("SERVICE", "GROUP", "STATE", "HEALTH", "RESTARTS", "UPTIME", "PORTS")
        table = [header] + [
            (r.service, r.group, r.state, r.health, str(r.restarts), r.uptime, r.ports) for r in rows
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        for line in table:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())

    def do_logs(self, deployment, targets, options):
        engine = engines.client()
        for name in deployment.select(targets, with_dependencies=False):
            container = engines.container_of(engine, deployment.name, name)
            if container is None:
                self.stdout.write(f"== {name}: not deployed")
                continue
            self.stdout.write(f"== {name} ({container.name}, {container.status})")
            self.stdout.write(services.tail_logs(container, options["tail"]).rstrip("\n"))
