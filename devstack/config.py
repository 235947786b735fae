"""What the dev stack runs where, read from the environment (and the project's `.env`).

Supervisor-only variables (not application settings):

| variable | default | meaning |
|---|---|---|
| `DEV_DIR` | `.dev` | all local state: Postgres data, Temporal's SQLite file, localstripe state, logs |
| `API_PORT` | `8000` | the API (uvicorn) |
| `TEMPORAL_PORT` | `7233` | Temporal frontend (gRPC) |
| `TEMPORAL_UI_PORT` | `8233` | Temporal Web UI |
| `TEMPORAL_HTTP_PORT` | a free port | Temporal's HTTP API (the CLI picks one when unset) |
| `TEMPORAL_METRICS_PORT` | a free port | Temporal's `/metrics` (the CLI picks one when unset) |
| `LOCALSTRIPE_PORT` | `8420` | localstripe |
| `WORKER_METRICS_PORT` | `9464` | the worker's Temporal SDK metrics (a setting of the worker); `0`: off |
| `DEVSTACK_READY_TIMEOUT` | `90` | seconds each service may take to become ready |
| `DEVSTACK_STOP_TIMEOUT` | `10` | seconds a service may take to stop before it is killed |
| `DEVSTACK_STRIPE_API_BASE` | localstripe | where the API and the worker reach localstripe (a proxy) |

Application settings decide what is started at all: `DATABASE_URL` set → no embedded
Postgres; `TEMPORAL_ADDRESS` set → no Temporal dev server; `STRIPE_SECRET_KEY` set → no
localstripe.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from core.settings import DEV_ADMIN_TOKEN, DEV_WEBHOOK_SECRET, Settings

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DATABASE_NAME = "gracestowel"

DEFAULT_TASK_QUEUE: str = Settings.model_fields["temporal_task_queue"].default
DEFAULT_NAMESPACE: str = Settings.model_fields["temporal_namespace"].default
DEFAULT_WORKER_METRICS_PORT: int = Settings.model_fields["worker_metrics_port"].default
WEBHOOK_NAME = "gracestowel"


class ConfigError(Exception):
    """The environment asks for something impossible (a port that is not a number…)."""


@dataclass(frozen=True)
class DevConfig:
    root: Path
    dev_dir: Path
    api_port: int
    temporal_port: int
    temporal_ui_port: int
    temporal_http_port: int | None
    temporal_metrics_port: int | None
    localstripe_port: int
    worker_metrics_port: int | None  # None: off
    # Set when the developer points at their own service; then it is not started here.
    external_database_url: str | None
    external_temporal_address: str | None
    external_stripe: bool
    webhook_secret: str
    admin_token: str
    admin_token_is_default: bool
    task_queue: str
    namespace: str
    ready_timeout: float
    stop_timeout: float
    media_dir_is_set: bool
    host: str = HOST
    # A proxy in front of localstripe that the API and the worker go through; None: localstripe itself.
    stripe_proxy_url: str | None = None

    @property
    def log_dir(self) -> Path:
        return self.dev_dir / "logs"

    @property
    def pgdata(self) -> Path:
        return self.dev_dir / "postgres"

    @property
    def temporal_db(self) -> Path:
        return self.dev_dir / "temporal.db"

    @property
    def localstripe_state(self) -> Path:
        return self.dev_dir / "localstripe.pickle"

    @property
    def lock_file(self) -> Path:
        return self.dev_dir / "devstack.lock"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def localstripe_url(self) -> str:
        return f"http://{self.host}:{self.localstripe_port}"

    @property
    def children_stripe_url(self) -> str:
        """STRIPE_API_BASE of the API and the worker."""
        return self.stripe_proxy_url or self.localstripe_url

    @property
    def temporal_address(self) -> str:
        return self.external_temporal_address or f"{self.host}:{self.temporal_port}"

    @property
    def temporal_ui_url(self) -> str:
        return f"http://{self.host}:{self.temporal_ui_port}"

    @property
    def worker_metrics_url(self) -> str | None:
        if self.worker_metrics_port is None:
            return None
        return f"http://{self.host}:{self.worker_metrics_port}/metrics"

    @property
    def webhook_url(self) -> str:
        return f"{self.api_url}/hooks/stripe"

    def required_ports(self) -> list[tuple[int, str]]:
        """Every TCP port this stack will listen on, with the service that needs it."""
        ports: list[tuple[int, str]] = [(self.api_port, "API")]
        if self.external_temporal_address is None:
            ports.append((self.temporal_port, "Temporal"))
            ports.append((self.temporal_ui_port, "Temporal UI"))
            if self.temporal_http_port is not None:
                ports.append((self.temporal_http_port, "Temporal HTTP API"))
            if self.temporal_metrics_port is not None:
                ports.append((self.temporal_metrics_port, "Temporal metrics"))
        if not self.external_stripe:
            ports.append((self.localstripe_port, "localstripe"))
        if self.worker_metrics_port is not None:
            ports.append((self.worker_metrics_port, "worker metrics"))
        return ports


def _port(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{name}={port} is not a valid port (1-65535)")
    return port


def _optional_port(env: Mapping[str, str], name: str, default: int) -> int | None:
    """A port that `0` or an empty value switches off; unset, the default."""
    if name not in env:
        return default
    if env[name].strip() in ("", "0"):
        return None
    return _port(env, name, default)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def settings_view(environ: Mapping[str, str], root: Path) -> dict[str, str]:
    """The application's view of its settings: the project's `.env`, overridden by the environment
    (the precedence pydantic-settings uses), keys upper-cased."""
    merged: dict[str, str] = {}
    env_file = root / ".env"
    if env_file.is_file():
        for key, value in dotenv_values(env_file).items():
            if value is not None:
                merged[key.upper()] = value
    for key, value in environ.items():
        merged[key.upper()] = value
    return merged


def load_config(environ: Mapping[str, str] | None = None, root: Path = ROOT) -> DevConfig:
    env = settings_view(os.environ if environ is None else environ, root)

    def setting(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    dev_dir = Path(env.get("DEV_DIR", "").strip() or ".dev")
    if not dev_dir.is_absolute():
        dev_dir = root / dev_dir

    api_port = _port(env, "API_PORT", 8000)
    temporal_port = _port(env, "TEMPORAL_PORT", 7233)
    temporal_ui_port = _port(env, "TEMPORAL_UI_PORT", 8233)
    localstripe_port = _port(env, "LOCALSTRIPE_PORT", 8420)
    assert api_port is not None and temporal_port is not None
    assert temporal_ui_port is not None and localstripe_port is not None

    admin_token = setting("ADMIN_API_TOKEN")
    config = DevConfig(
        root=root,
        dev_dir=dev_dir,
        api_port=api_port,
        temporal_port=temporal_port,
        temporal_ui_port=temporal_ui_port,
        temporal_http_port=_port(env, "TEMPORAL_HTTP_PORT", None),
        temporal_metrics_port=_port(env, "TEMPORAL_METRICS_PORT", None),
        localstripe_port=localstripe_port,
        worker_metrics_port=_optional_port(env, "WORKER_METRICS_PORT", DEFAULT_WORKER_METRICS_PORT),
        external_database_url=setting("DATABASE_URL"),
        external_temporal_address=setting("TEMPORAL_ADDRESS"),
        external_stripe=setting("STRIPE_SECRET_KEY") is not None,
        webhook_secret=setting("STRIPE_WEBHOOK_SECRET") or DEV_WEBHOOK_SECRET,
        admin_token=admin_token or DEV_ADMIN_TOKEN,
        admin_token_is_default=admin_token is None or admin_token == DEV_ADMIN_TOKEN,
        task_queue=setting("TEMPORAL_TASK_QUEUE") or DEFAULT_TASK_QUEUE,
        namespace=setting("TEMPORAL_NAMESPACE") or DEFAULT_NAMESPACE,
        ready_timeout=_seconds(env, "DEVSTACK_READY_TIMEOUT", 90.0),
        stop_timeout=_seconds(env, "DEVSTACK_STOP_TIMEOUT", 10.0),
        media_dir_is_set=setting("LOCAL_MEDIA_DIR") is not None,
        stripe_proxy_url=setting("DEVSTACK_STRIPE_API_BASE"),
    )
    ports = config.required_ports()
    seen: dict[int, str] = {}
    for port, service in ports:
        if port in seen:
            raise ConfigError(f"port {port} is configured for both {seen[port]} and {service}")
        seen[port] = service
    return config


def child_environment(config: DevConfig, database_url: str, base: Mapping[str, str]) -> dict[str, str]:
    """The environment the API, the worker, the seed and the migrations run with."""
    env = dict(base)
    env["ENVIRONMENT"] = "dev"
    env["DATABASE_URL"] = database_url
    env["TEMPORAL_ADDRESS"] = config.temporal_address
    if config.external_temporal_address is None:
        env["TEMPORAL_UI_URL"] = config.temporal_ui_url
    env["API_HOST"] = config.host
    env["API_PORT"] = str(config.api_port)
    env["WORKER_METRICS_HOST"] = config.host
    env["WORKER_METRICS_PORT"] = str(config.worker_metrics_port or 0)
    if not config.external_stripe:
        env["STRIPE_API_BASE"] = config.children_stripe_url
    if not config.media_dir_is_set:
        env["LOCAL_MEDIA_DIR"] = str(config.dev_dir / "media")
    env["PYTHONUNBUFFERED"] = "1"
    return env
