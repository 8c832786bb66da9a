"""Production settings pass Django's deployment checks; migrations match models."""
import os
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION_ENV = {
    "ABF_SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
    "ABF_SECURE": "1",
    "ABF_ALLOWED_HOSTS": "abf.example.org",
    "DATABASE_URL": "postgres://abf:secret@127.0.0.1:5432/abf",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def manage(*args, env=None):
    # The browser tests allow sync ORM calls beside Playwright's loop in this
    # process; a deployment never would.
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **(env or {})},
        capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "ABF_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_migrations_match_the_models():
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
