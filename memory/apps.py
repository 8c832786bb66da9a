from django.apps import AppConfig


class MemoryConfig(AppConfig):
    """Per-user memory (the memory issue builds its models and services here)."""

    name = "memory"
