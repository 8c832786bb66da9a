"""Export and import memory in the reference framework's per-user JSON files."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from memory import services


class Command(BaseCommand):
    help = (
        "memory export DIR: write <user_id>.json per user; memory import DIR: read them back "
        "(missing users are created as operators; entries already there are skipped). --user limits to one user."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import"])
        parser.add_argument("directory")
        parser.add_argument("--user", help="Only this user's memory (file <user_id>.json on import).")

    def handle(self, action, directory, user=None, **options):
        if action == "export":
            try:
                paths = services.export_files(directory, username=user)
            except services.MemoryEntryError as exc:
                raise CommandError(str(exc)) from None
            for path in paths:
                self.stdout.write(f"wrote {path}")
            self.stdout.write(f"{len(paths)} file{'s' if len(paths) != 1 else ''} exported to {directory}")
            return
        self._import(Path(directory), user)

    def _import(self, directory, user):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        paths = [directory / services.file_name_for(user)] if user else sorted(directory.glob("*.json"))
        if user and not paths[0].exists():
            raise CommandError(f"No memory file for {user}: {paths[0]} does not exist.")
        broken = 0
        for path in paths:
            try:
                username, added, skipped = services.import_file(path)
            except services.MemoryEntryError as exc:
                broken += 1
                self.stderr.write(f"{path.name}: not imported, nothing from it was saved:")
                for problem in str(exc).splitlines():
                    self.stderr.write(f"  {problem}")
                continue
            if user and username != user:
                self.stderr.write(f"{path.name}: holds user_id {username!r}, imported for that user")
            self.stdout.write(f"{path.name}: {username}: {added} added, {skipped} already there")
        if broken:
            raise CommandError(f"{broken} of {len(paths)} files had problems and were not imported.")
        self.stdout.write(f"{len(paths)} file{'s' if len(paths) != 1 else ''} imported from {directory}")
