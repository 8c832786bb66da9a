"""abf's URLs with the providers page mounted, as abf_site/urls.py will have it."""
from django.urls import include, path

from abf_site.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("providers/", include("providers.urls")), *site_urlpatterns]
