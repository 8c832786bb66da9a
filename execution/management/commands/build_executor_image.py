"""Build the container executor's image from this machine's Python, without
a registry: python manage.py build_executor_image [--tag TAG]"""
import docker
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from execution.container_image import build_image


class Command(BaseCommand):
    help = "Build the container executor's image (FROM scratch, from local material only)."

    def add_arguments(self, parser):
        parser.add_argument("--tag", default=settings.ABF_EXECUTOR_IMAGE)

    def handle(self, tag, **options):
        try:
            client = docker.from_env()
            image = build_image(client, tag)
        except docker.errors.DockerException as exc:
            raise CommandError(f"could not build {tag}: {exc}")
        size = image.attrs.get("Size", 0) / 1e6
        self.stdout.write(f"Built {tag} ({image.short_id}, {size:.0f} MB).")
