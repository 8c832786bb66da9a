from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    """Data-source providers (the providers issue builds the framework here)."""

    name = "providers"
