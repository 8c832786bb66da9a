from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    """Data-source providers (the providers issue builds the framework here)."""

    name = "providers"

    def ready(self):
        from providers import checks  # noqa: F401  (registers the system checks)
        from providers.registry import autodiscover

        autodiscover()
