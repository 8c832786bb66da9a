"""abf settings: one file, driven by environment variables.

With nothing set, abf runs on the embedded default: SQLite, django-q2's ORM
broker and the local sandboxed executor. Production switches on through
DATABASE_URL (PostgreSQL), REDIS_URL (channel layer + django-q broker) and
the ABF_* variables documented in the README.
"""
import json
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ABF_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key():
    """Use ABF_SECRET_KEY, else a key generated once and kept in var/."""
    if os.environ.get("ABF_SECRET_KEY"):
        return os.environ["ABF_SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    if not path.exists():
        from django.core.management.utils import get_random_secret_key

        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("ABF_DEBUG", False)
ALLOWED_HOSTS = env_list("ABF_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("ABF_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_q",
    "approvals",
    "execution",
    "memory",
    "providers",
    "deployment",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "abf_site.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "abf_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = None
ASGI_APPLICATION = "abf_site.asgi.application"

# --- Database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'abf.sqlite3'}")
# Health checks: a connection kept across requests that the server dropped
# (a restart, a failover) is replaced instead of failing the next request.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
IS_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if IS_SQLITE:
    # Web, worker and checkpointer share one file: WAL lets readers work
    # during a write, IMMEDIATE transactions take the write lock up front so
    # concurrent writers queue (busy timeout) instead of failing on upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Worker processes must see the test database, so it lives in a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_abf.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# LangGraph checkpoints: the Postgres saver when the database is PostgreSQL,
# else the official SQLite saver in its own file (ABF_CHECKPOINT_DB).
ABF_CHECKPOINT_DB = os.environ.get("ABF_CHECKPOINT_DB", str(VAR_DIR / "checkpoints.sqlite3"))

# --- Redis: channel layer and django-q broker -------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Messages a page's socket may have waiting before the layer drops new ones
# (Channels' default, 100, drops pushes when 500 pages share one busy web
# process; see bench/bench_load.py).
ABF_CHANNEL_CAPACITY = int(os.environ.get("ABF_CHANNEL_CAPACITY", "2000"))
# How long such a message may wait before it is dropped (Channels' default,
# 60 s, drops pushes a busy web process is still working through).
ABF_CHANNEL_EXPIRY = int(os.environ.get("ABF_CHANNEL_EXPIRY", "600"))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, which
            # cuts channels-redis's blocking BZPOPMIN short and tears down
            # every socket's consumer (django/channels_redis#422).
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}], "capacity": ABF_CHANNEL_CAPACITY,
                       "expiry": ABF_CHANNEL_EXPIRY},
        }
    }
else:
    # Cross-process without a server: see abf_site/channel_layer.py.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "abf_site.channel_layer.RelayChannelLayer",
            "CONFIG": {
                "path": os.environ.get("ABF_CHANNEL_RELAY_SOCKET", str(VAR_DIR / "channels.sock")),
                "capacity": ABF_CHANNEL_CAPACITY,
                "expiry": ABF_CHANNEL_EXPIRY,
            },
        }
    }

ABF_TASK_TIMEOUT = int(os.environ.get("ABF_TASK_TIMEOUT", "900"))
# A run still queued, or a decision not yet handed to its run, this long
# after the fact is queued again (its task was lost with the broker).
ABF_REDELIVER_AFTER_SECONDS = int(os.environ.get("ABF_REDELIVER_AFTER_SECONDS", "120"))
Q_CLUSTER = {
    "name": "abf",
    "workers": int(os.environ.get("ABF_WORKERS", "2")),
    "timeout": ABF_TASK_TIMEOUT,
    # Must exceed the timeout, or a long task is handed out twice.
    "retry": ABF_TASK_TIMEOUT + 60,
    # A crashed attempt is never retried blindly: our own state (run and
    # execution claims) decides what may still happen.
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "poll": 0.1,
    "label": "Django Q2",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- The agent ----------------------------------------------------------------
# LangChain model id for init_chat_model, e.g. "openai:gpt-4.1". Unset: the
# direct planner (code or a JSON/YAML plan, no model needed).
ABF_LLM_MODEL = os.environ.get("ABF_LLM_MODEL", "")
# --- Execution -------------------------------------------------------------------
# How agent code runs: "local" (a bubblewrap sandbox per execution) or
# "container" (a hardened Docker container per execution, on the engine
# DOCKER_HOST names, from the image build_executor_image builds). Limits
# (time, CPU, memory, processes, output, file size) are set in admin.
ABF_EXECUTOR = os.environ.get("ABF_EXECUTOR", "local")
if ABF_EXECUTOR not in {"local", "container"}:
    raise ValueError(f"ABF_EXECUTOR={ABF_EXECUTOR!r}: the executors are 'local' and 'container'")
ABF_EXECUTOR_IMAGE = os.environ.get("ABF_EXECUTOR_IMAGE", "abf-executor:latest")
# The container executor's kernels, in a deployment (python manage.py deploy):
# the environment whose executor-read / executor-write services they join
# (image, network, EPICS variables; found by name). Empty: standalone kernel
# containers from ABF_EXECUTOR_IMAGE. Set, and the service is down: not run.
ABF_EXECUTOR_DEPLOYMENT = os.environ.get("ABF_EXECUTOR_DEPLOYMENT", "")
# Where the worker makes each kernel's exchange folder (connection file,
# sockets, report; default: the system's temporary folder). A worker in a
# container needs a folder mounted at the same path as on the Docker host,
# since the engine bind-mounts it into the kernel's container from the host.
ABF_EXECUTOR_EXCHANGE_DIR = os.environ.get("ABF_EXECUTOR_EXCHANGE_DIR", "")
# A running execution whose worker has sent no heartbeat (every 5 s) for this
# long is reported interrupted, never re-run.
ABF_EXECUTION_HEARTBEAT_TIMEOUT = int(os.environ.get("ABF_EXECUTION_HEARTBEAT_TIMEOUT", "30"))
try:
    ABF_EXECUTOR_POOL_SIZE = int(os.environ.get("ABF_EXECUTOR_POOL_SIZE", "1"))
except ValueError:
    raise ValueError("ABF_EXECUTOR_POOL_SIZE must be a whole number (0 turns the kernel pool off)")
# EPICS addresses (EPICS_CA_ADDR_LIST entries) the executed code may reach:
# read-only runs get the read list (a read-only gateway), runs whose writes
# were approved the write list. Empty: no network at all in the sandbox.
ABF_EPICS_READ_ADDR_LIST = env_list("ABF_EPICS_READ_ADDR_LIST")
ABF_EPICS_WRITE_ADDR_LIST = env_list("ABF_EPICS_WRITE_ADDR_LIST")

# --- Deployment ------------------------------------------------------------------
# Service folders of the application, walked after the framework's own
# services/ (a later folder overrides an earlier one by service name).
ABF_SERVICE_PATHS = [p for p in os.environ.get("ABF_SERVICE_PATHS", "").split(os.pathsep) if p]
# Where `deploy render` and `deploy up` write the rendered files.
ABF_DEPLOY_BUILD_DIR = os.environ.get("ABF_DEPLOY_BUILD_DIR", str(BASE_DIR / "build"))
# The environment `deploy` and find_service() use when none is named.
ABF_DEPLOY_ENV = os.environ.get("ABF_DEPLOY_ENV", "dev")
# Who gets the alerts (a restart policy that gave up): comma-separated e-mail addresses.
ADMINS = [(address, address) for address in env_list("ABF_ADMINS")]

# Data sources the graph consults before planning: enable, disable and
# configure providers by name (JSON), e.g.
# {"epics_values": {"timeout": 1.5}, "recent_executions": {"enabled": false}}
ABF_DATA_SOURCES = json.loads(os.environ.get("ABF_DATA_SOURCES", "{}"))

# --- Auth and security ----------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "runs"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind TLS in production, turn these on (ABF_SECURE=1).
ABF_SECURE = env_bool("ABF_SECURE", False)
SESSION_COOKIE_SECURE = ABF_SECURE
CSRF_COOKIE_SECURE = ABF_SECURE
SECURE_SSL_REDIRECT = ABF_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("ABF_HSTS_SECONDS", "31536000" if ABF_SECURE else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = ABF_SECURE
SECURE_HSTS_PRELOAD = ABF_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if ABF_SECURE else None

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("ABF_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ABF_LOG_LEVEL", "INFO")},
    # django-q logs every cluster process start and stop at INFO.
    "loggers": {"django-q": {"level": "WARNING"}},
}
