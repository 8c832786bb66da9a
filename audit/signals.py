"""Logins, failed logins and logouts (reviewer pages, admin, HTTP Basic
failures) from Django's own auth signals: every login path sends them."""
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.services import record_event


def _where(request):
    if request is None:
        return {}
    return {"path": request.path, "ip": request.META.get("REMOTE_ADDR", "")}


@receiver(user_logged_in, dispatch_uid="audit_login")
def on_login(sender, request, user, **kwargs):
    record_event(user, "auth.login", user, _where(request), subject=user.get_username())


@receiver(user_logged_out, dispatch_uid="audit_logout")
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record_event(user, "auth.logout", user, _where(request), subject=user.get_username())


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in credentials; only the name is kept.
    tried = str(credentials.get("username", ""))[:150]
    record_event("anonymous", "auth.login_failed", None,
                 {**_where(request), "username": tried}, subject=tried, outcome="failed")
