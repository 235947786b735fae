"""All configuration, read once from the environment (12-factor)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_WEBHOOK_SECRET = "whsec_dev_gracestowel"
DEV_ADMIN_TOKEN = "dev-admin-token"
# localstripe accepts any key that looks like a test key.
DEV_STRIPE_SECRET_KEY = "sk_test_gracestowel_localstripe"
DEV_STRIPE_PUBLISHABLE_KEY = "pk_test_gracestowel_localstripe"
STRIPE_JS_URL = "https://js.stripe.com/v3/"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL (postgresql+psycopg://...). Empty in dev: the embedded server is used.",
    )
    # Per process: every API replica and every worker holds up to size + overflow connections,
    # which PostgreSQL's max_connections (100 by default) must cover.
    database_pool_size: int = Field(default=10, ge=1, description="Connections each process keeps open.")
    database_max_overflow: int = Field(
        default=20, ge=0, description="Connections a process may open beyond the pool under load."
    )

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "gracestowel"
    temporal_ui_url: str = Field(default="http://127.0.0.1:8233", description="Linked from the admin API.")
    temporal_api_key: SecretStr | None = None
    temporal_tls: bool = False
    # The worker's slots: how many tasks of each kind one worker process runs at once (the SDK's
    # defaults). A replica beyond what the machine's cores serve only queues tasks in memory.
    worker_max_concurrent_activities: int = Field(default=100, ge=1)
    worker_max_concurrent_workflow_tasks: int = Field(default=100, ge=2)
    worker_max_concurrent_local_activities: int = Field(default=100, ge=1)

    stripe_secret_key: SecretStr = SecretStr(DEV_STRIPE_SECRET_KEY)
    stripe_api_base: str | None = Field(
        default=None, description="Override Stripe's API base (localstripe: http://127.0.0.1:8420)."
    )
    stripe_webhook_secret: SecretStr = SecretStr(DEV_WEBHOOK_SECRET)
    # Not a secret: the storefront's Stripe.js uses it in the browser.
    stripe_publishable_key: str = Field(default=DEV_STRIPE_PUBLISHABLE_KEY, pattern=r"^pk_(test|live)_\w+$")
    # Per request. The client tries 3 times (2 network retries), so a Stripe that hangs fails a
    # call in under 30 s, the activities' start-to-close timeout (the SDK's own default is 80 s).
    stripe_timeout_seconds: float = Field(default=8.0, gt=0)

    admin_api_token: SecretStr = SecretStr(DEV_ADMIN_TOKEN)

    resend_api_key: SecretStr | None = None
    email_from: str = "Grace's Towel <orders@gracestowel.example>"

    posthog_api_key: SecretStr | None = None
    posthog_host: str = "https://eu.i.posthog.com"

    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_public_base_url: str | None = None
    local_media_dir: str = ".dev/media"
    media_max_upload_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, description="Largest product image the admin API accepts."
    )

    # What one client may cost (api/request_limits.py, README "Security").
    max_request_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Largest request body (image uploads: MEDIA_MAX_UPLOAD_BYTES)."
    )
    rate_limit_carts_per_minute: int = Field(
        default=20, ge=0, description="Carts one client IP may create per minute (and at once); 0: no limit."
    )
    rate_limit_payment_sessions_per_minute: int = Field(
        default=10,
        ge=0,
        description="payment-sessions calls per client IP per minute (and at once); 0: no limit.",
    )
    # Browser storefronts on other origins that may call the API (comma-separated).
    store_cors_origins: Annotated[list[str], NoDecode] = Field(default=["http://localhost:5173"])
    api_docs: bool = Field(
        default_factory=lambda data: data.get("environment") != "production",
        description="Serve /docs, /redoc and /openapi.json (default: everywhere but production).",
    )

    checkout_payment_timeout_seconds: int = Field(default=3600, gt=0)
    reconciler_interval_seconds: int = Field(default=300, gt=0)
    # The outbox's delivery Schedule: how often it runs, how often a message is tried before it
    # is `failed`, and the first retry's delay (doubling up to OUTBOX_RETRY_MAX_SECONDS).
    outbox_interval_seconds: int = Field(default=60, gt=0)
    outbox_max_attempts: int = Field(default=10, ge=1)
    outbox_retry_base_seconds: float = Field(default=30.0, ge=0)
    outbox_retry_max_seconds: float = Field(default=3600.0, ge=0)
    outbox_batch_size: int = Field(default=100, ge=1, le=1000)
    # An OrderWorkflow closes once both windows have passed and nothing is open; a late event
    # or operation starts it again.
    order_return_window_days: int = Field(default=30, ge=0)
    order_dispute_window_days: int = Field(default=120, ge=0)
    shop_notification_email: str = "shop@gracestowel.example"
    # How long an admin operation on an order waits for its workflow before answering 503.
    order_operation_wait_seconds: float = Field(default=30.0, gt=0)
    checkout_answer_timeout_seconds: float = Field(
        default=15,
        gt=0,
        description="How long payment-sessions and complete wait for the checkout workflow before"
        " answering 503 checkout_pending with Retry-After.",
    )

    # Operating it (README): logs, the worker's SDK metrics, tracing.
    log_format: Literal["json", "text"] = Field(
        default_factory=lambda data: "text" if data.get("environment") == "dev" else "json",
        description="json: one object per line (default outside dev); text: for a person at a terminal.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    worker_metrics_port: int | None = Field(
        default=9464, ge=1, le=65535, description="The worker's Temporal SDK metrics; 0 or empty: off."
    )
    worker_metrics_host: str = "127.0.0.1"
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP collector (http://collector:4318); unset: no tracing at all."
    )

    @field_validator("store_cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("worker_metrics_port", "otel_exporter_otlp_endpoint", mode="before")
    @classmethod
    def _empty_means_off(cls, value: Any) -> Any:
        return None if value in ("", "0", 0) else value

    @model_validator(mode="after")
    def _refuse_dev_secrets_outside_dev(self) -> Self:
        if self.environment != "production":
            return self
        defaults = {
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret.get_secret_value() == DEV_WEBHOOK_SECRET,
            "ADMIN_API_TOKEN": self.admin_api_token.get_secret_value() == DEV_ADMIN_TOKEN,
            "STRIPE_SECRET_KEY": self.stripe_secret_key.get_secret_value() == DEV_STRIPE_SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": self.stripe_publishable_key == DEV_STRIPE_PUBLISHABLE_KEY,
        }
        still_default = [name for name, is_default in defaults.items() if is_default]
        if still_default:
            raise ValueError(
                f"refusing to start in production with dev defaults for: {', '.join(still_default)}"
            )
        if not self.database_url:
            raise ValueError("DATABASE_URL is required in production")
        return self

    @property
    def stripe_js_url(self) -> str:
        """Stripe.js for the storefront: a fake Stripe API (localstripe) serves its own fake of it."""
        if self.stripe_api_base and self.environment != "production":
            return f"{self.stripe_api_base.rstrip('/')}/js.stripe.com/v3/"
        return STRIPE_JS_URL


@lru_cache
def get_settings() -> Settings:
    return Settings()
