"""docker-compose.yml and the Dockerfile, read as a user relies on them (no Docker engine needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Required like the secrets (no default), though the publishable key is not secret.
SECRETS = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "ADMIN_API_TOKEN")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return dict(env)


def _depends_on(service: dict[str, Any]) -> set[str]:
    depends = service.get("depends_on", [])
    return set(depends) if isinstance(depends, list) else set(depends.keys())


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _command_string(value: str | list[str]) -> str:
    return " ".join(value) if isinstance(value, list) else value


def test_the_five_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", "temporal", "temporal-ui", "api", "worker"} <= set(services)


def test_postgres_is_16_with_a_volume_and_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert any(str(volume).endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert "pg_isready" in _command_string(postgres["healthcheck"]["test"])


def test_temporal_runs_on_that_postgres_and_its_ui_on_8233(services: dict[str, dict[str, Any]]) -> None:
    temporal = services["temporal"]
    assert temporal["image"].split(":")[0] in {"temporalio/auto-setup", "temporalio/server"}
    env = _environment(temporal)
    assert env["POSTGRES_SEEDS"] == "postgres"
    assert "postgres" in _depends_on(temporal)
    ui = services["temporal-ui"]
    assert ui["image"].startswith("temporalio/ui")
    assert _environment(ui)["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert "8233:8080" in ui["ports"]


@pytest.mark.parametrize("name", ["api", "worker"])
def test_api_and_worker_are_built_here_and_wired_to_postgres_and_temporal(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service = services[name]
    assert service["build"] in (".", {"context": "."})
    assert {"postgres", "temporal"} <= _depends_on(service)
    env = _environment(service)
    assert env["ENVIRONMENT"] == "production"
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    url = make_url(env["DATABASE_URL"].replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}", "pw"))
    assert url.host == "postgres"
    assert url.database == services["postgres"]["environment"]["POSTGRES_DB"]
    assert url.username == services["postgres"]["environment"]["POSTGRES_USER"]


@pytest.mark.parametrize("name", ["api", "worker"])
def test_secrets_are_required_never_defaulted(services: dict[str, dict[str, Any]], name: str) -> None:
    env = _environment(services[name])
    for secret in SECRETS:
        assert re.fullmatch(r"\$\{" + secret + r":\?[^}]+\}", env[secret]), (
            f"{secret} must be ${{{secret}:?...}}"
        )
    assert ":?" in env["DATABASE_URL"], "the database password must be required too"
    # Optional integrations pass through from the shell only when set: never an empty string,
    # which the settings would read as an (empty) API key.
    for optional in ("RESEND_API_KEY", "POSTHOG_API_KEY", "S3_SECRET_ACCESS_KEY"):
        assert env.get(optional) is None


def test_every_variable_the_services_get_is_a_setting(services: dict[str, dict[str, Any]]) -> None:
    known = {name.upper() for name in Settings.model_fields}
    for name in ("api", "worker"):
        unknown = set(_environment(services[name])) - known
        assert unknown == set(), f"{name} gets variables the settings do not read: {unknown}"


def test_api_port_8000_is_published(services: dict[str, dict[str, Any]]) -> None:
    assert any(str(port).endswith("8000:8000") for port in services["api"]["ports"])
    assert "ports" not in services["worker"]


def test_dockerfile_builds_the_project_and_serves_the_api_after_migrating() -> None:
    instructions = _dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = " && ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "pip install" in runs
    assert re.search(r"pip install (--no-deps )?\.(\s|$)", runs)
    (cmd,) = [json.loads(rest) for keyword, rest in instructions if keyword == "CMD"]
    command = _command_string(cmd)
    migrate_at = command.index("python -m core.migrate")
    serve_at = command.index("uvicorn --factory api.main:create_app --host 0.0.0.0 --port 8000")
    assert migrate_at < serve_at
    assert "&&" in command[migrate_at:serve_at], "the API must not start when the migrations fail"


def test_api_uses_the_image_command_and_the_worker_runs_worker_py(
    services: dict[str, dict[str, Any]],
) -> None:
    assert "command" not in services["api"]
    assert _command_string(services["worker"]["command"]) == "python worker.py"
    assert (ROOT / "worker.py").is_file()


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".dev", ".git"} <= ignored
