import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from approvals.services import OPERATORS_GROUP, REVIEWERS_GROUP

DEMO_USERS = {"admin": None, "operator": OPERATORS_GROUP, "reviewer": REVIEWERS_GROUP}


class Command(BaseCommand):
    help = (
        "Create the operators/reviewers groups and, unless --no-demo-users, the demo accounts "
        "admin, operator and reviewer. Idempotent: existing users and passwords are left alone. "
        "Passwords are generated once and kept in var/demo-credentials.txt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-demo-users", action="store_true", help="Only create the groups.")

    def handle(self, *args, no_demo_users=False, **options):
        for name in (OPERATORS_GROUP, REVIEWERS_GROUP):
            Group.objects.get_or_create(name=name)
        if no_demo_users:
            return
        path = settings.VAR_DIR / "demo-credentials.txt"
        known = dict(line.split(":", 1) for line in path.read_text().split() if ":" in line) if path.exists() else {}
        User = get_user_model()
        for username, group in DEMO_USERS.items():
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(username, password=password)
            if group:
                user.groups.add(Group.objects.get(name=group))
            else:
                user.is_staff = user.is_superuser = True
                user.save()
            known[username] = password
        path.write_text("".join(f"{u}:{p}\n" for u, p in known.items()))
        path.chmod(0o600)
