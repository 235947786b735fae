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


def _tag(service: dict[str, Any]) -> str:
    return str(service["image"]).rpartition(":")[2]


def _default(value: str) -> str:
    """The default of a `${NAME:-default}` value (a plain value is its own default)."""
    found = re.fullmatch(r"\$\{\w+:-([^}]*)\}", value)
    return found.group(1) if found else value


def test_temporal_runs_on_that_postgres_and_its_ui_on_8233(services: dict[str, dict[str, Any]]) -> None:
    temporal = services["temporal"]
    # auto-setup is deprecated and no longer built: the plain server, its schema set up beforehand.
    assert temporal["image"].split(":")[0] == "temporalio/server"
    env = _environment(temporal)
    assert env["POSTGRES_SEEDS"] == "postgres"
    assert (env["DBNAME"], env["VISIBILITY_DBNAME"]) == ("temporal", "temporal_visibility")
    assert temporal["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    ui = services["temporal-ui"]
    assert ui["image"].startswith("temporalio/ui")
    assert _environment(ui)["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert "8233:8080" in ui["ports"]


def test_admin_tools_set_up_temporals_schemas_then_its_namespace(services: dict[str, dict[str, Any]]) -> None:
    schema = services["temporal-schema"]
    assert schema["image"].split(":")[0] == "temporalio/admin-tools"
    assert "postgres" in _depends_on(schema)
    script = _command_string(schema["command"])
    for database, directory in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"{database}:{directory}" in script
    for step in ("create", "setup-schema -v 0.0", "update-schema -d"):
        assert f"$$tool {step}" in script
    assert "/etc/temporal/schema/postgresql/v12/" in script
    namespace = services["temporal-namespace"]
    assert namespace["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert "temporal operator namespace create --namespace default" in _command_string(namespace["command"])
    # The search attributes live in the namespace: registered once it exists.
    setup = services["temporal-setup"]
    assert setup["depends_on"]["temporal-namespace"]["condition"] == "service_completed_successfully"


def test_temporal_images_are_pinned_and_admin_tools_match_the_server(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("temporal", "temporal-schema", "temporal-namespace", "temporal-ui"):
        assert re.fullmatch(r"\d+\.\d+\.\d+", _tag(services[name])), f"{name} must pin an exact version"
    # The schema directories admin-tools applies are those of its own server version.
    assert _tag(services["temporal-schema"]) == _tag(services["temporal"])
    assert _tag(services["temporal-namespace"]) == _tag(services["temporal"])


def test_task_queue_partitions_are_set_in_temporals_dynamic_config(compose: dict[str, Any]) -> None:
    temporal = compose["services"]["temporal"]
    (mounted,) = temporal["configs"]
    assert _environment(temporal)["DYNAMIC_CONFIG_FILE_PATH"] == mounted["target"]
    dynamic = yaml.safe_load(compose["configs"][mounted["source"]]["content"])
    reads = dynamic["matching.numTaskqueueReadPartitions"][0]["value"]
    writes = dynamic["matching.numTaskqueueWritePartitions"][0]["value"]
    assert reads == writes >= 1


def test_api_and_worker_run_replicas_within_postgres_connections(services: dict[str, dict[str, Any]]) -> None:
    api, worker = services["api"], services["worker"]
    replicas = {name: services[name]["deploy"]["replicas"] for name in ("api", "worker")}
    assert replicas["api"] >= 2 and replicas["worker"] >= 2
    # One host port per API replica.
    (published,) = api["ports"]
    first, _, last = str(published).rpartition(":")[0].partition("-")
    assert int(last) - int(first) + 1 == replicas["api"]
    for name, service in (("api", api), ("worker", worker)):
        env = _environment(service)
        per_process = int(_default(env["DATABASE_POOL_SIZE"])) + int(_default(env["DATABASE_MAX_OVERFLOW"]))
        replicas[name] *= per_process
    # PostgreSQL's default max_connections is 100; Temporal's own pools take about 30.
    assert sum(replicas.values()) + 30 <= 100
    worker_env = _environment(worker)
    for slots in ("ACTIVITIES", "WORKFLOW_TASKS", "LOCAL_ACTIVITIES"):
        assert int(_default(worker_env[f"WORKER_MAX_CONCURRENT_{slots}"])) >= 2


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
    ports = [str(port) for port in services["api"]["ports"]]
    assert any(port.startswith("8000") and port.endswith(":8000") for port in ports)
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
