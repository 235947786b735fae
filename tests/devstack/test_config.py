"""What `make dev` starts and how, decided from the environment (and `.env`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.config import ConfigError, child_environment, load_config
from devstack.temporal import server_command
from domain.checkout import SEARCH_ATTRIBUTES


def test_defaults_start_everything_locally(tmp_path: Path) -> None:
    config = load_config({}, root=tmp_path)

    assert config.dev_dir == tmp_path / ".dev"
    assert (config.api_port, config.temporal_port, config.temporal_ui_port, config.localstripe_port) == (
        8000,
        7233,
        8233,
        8420,
    )
    assert config.external_database_url is None
    assert config.external_temporal_address is None
    assert not config.external_stripe
    assert config.webhook_secret == "whsec_dev_gracestowel"
    assert config.admin_token == "dev-admin-token"
    assert [service for _, service in config.required_ports()] == [
        "API",
        "Temporal",
        "Temporal UI",
        "localstripe",
        "worker metrics",
    ]
    assert config.worker_metrics_url == "http://127.0.0.1:9464/metrics"


def test_outside_services_are_not_started_nor_their_ports_checked(tmp_path: Path) -> None:
    config = load_config(
        {
            "DATABASE_URL": "postgresql://u:p@db.example/gt",
            "TEMPORAL_ADDRESS": "ns.tmprl.cloud:7233",
            "STRIPE_SECRET_KEY": "sk_test_real",
        },
        root=tmp_path,
    )
    assert config.external_database_url == "postgresql://u:p@db.example/gt"
    assert config.temporal_address == "ns.tmprl.cloud:7233"
    assert config.external_stripe
    assert config.required_ports() == [(8000, "API"), (9464, "worker metrics")]


def test_dotenv_counts_like_the_application_reads_it_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STRIPE_SECRET_KEY=sk_test_from_dotenv\nAPI_PORT=9000\n")
    assert load_config({}, root=tmp_path).external_stripe
    assert load_config({}, root=tmp_path).api_port == 9000
    assert load_config({"API_PORT": "9100"}, root=tmp_path).api_port == 9100


def test_ports_and_dev_dir_are_overridable(tmp_path: Path) -> None:
    config = load_config(
        {
            "DEV_DIR": "elsewhere",
            "API_PORT": "18000",
            "TEMPORAL_PORT": "17233",
            "TEMPORAL_UI_PORT": "18233",
            "TEMPORAL_HTTP_PORT": "17243",
            "TEMPORAL_METRICS_PORT": "19090",
            "LOCALSTRIPE_PORT": "18420",
            "WORKER_METRICS_PORT": "19464",
        },
        root=tmp_path,
    )
    assert config.dev_dir == tmp_path / "elsewhere"
    assert {port for port, _ in config.required_ports()} == {18000, 17233, 18233, 17243, 19090, 18420, 19464}


@pytest.mark.parametrize("off", ["0", "", " "])
def test_worker_metrics_can_be_switched_off(tmp_path: Path, off: str) -> None:
    config = load_config({"WORKER_METRICS_PORT": off}, root=tmp_path)

    assert config.worker_metrics_port is None
    assert "worker metrics" not in [service for _, service in config.required_ports()]
    assert child_environment(config, "postgresql://x", {})["WORKER_METRICS_PORT"] == "0"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"API_PORT": "http"}, "API_PORT='http' is not a port number"),
        ({"TEMPORAL_PORT": "70000"}, "TEMPORAL_PORT=70000 is not a valid port"),
        ({"API_PORT": "8420"}, "port 8420 is configured for both API and localstripe"),
        ({"DEVSTACK_READY_TIMEOUT": "-1"}, "DEVSTACK_READY_TIMEOUT must be positive"),
    ],
)
def test_impossible_settings_are_refused(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(environ, root=tmp_path)


def test_children_run_in_dev_mode_against_what_was_started(tmp_path: Path) -> None:
    config = load_config({"LOCALSTRIPE_PORT": "18420"}, root=tmp_path)
    env = child_environment(
        config, "postgresql://postgres:@/gracestowel?host=/x", {"ENVIRONMENT": "production"}
    )

    assert env["ENVIRONMENT"] == "dev"
    assert env["DATABASE_URL"] == "postgresql://postgres:@/gracestowel?host=/x"
    assert env["TEMPORAL_ADDRESS"] == "127.0.0.1:7233"
    assert env["TEMPORAL_UI_URL"] == "http://127.0.0.1:8233"
    assert env["STRIPE_API_BASE"] == "http://127.0.0.1:18420"
    assert env["LOCAL_MEDIA_DIR"] == str(tmp_path / ".dev" / "media")


def test_real_stripe_keeps_stripes_api_base(tmp_path: Path) -> None:
    config = load_config({"STRIPE_SECRET_KEY": "sk_test_real"}, root=tmp_path)
    env = child_environment(config, "postgresql://x/y", {"STRIPE_SECRET_KEY": "sk_test_real"})
    assert "STRIPE_API_BASE" not in env


def test_temporal_command_registers_every_search_attribute_the_workflows_use(tmp_path: Path) -> None:
    config = load_config({}, root=tmp_path)
    argv = server_command("temporal", config, SEARCH_ATTRIBUTES)

    assert argv[:3] == ["temporal", "server", "start-dev"]

    def flag(name: str) -> str:
        return argv[argv.index(name) + 1]

    assert flag("--ip") == "127.0.0.1"
    assert flag("--port") == "7233"
    assert flag("--ui-port") == "8233"
    assert flag("--db-filename") == str(tmp_path / ".dev" / "temporal.db")
    registered = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--search-attribute"]
    assert registered == [f"{name}={kind}" for name, kind in SEARCH_ATTRIBUTES.items()]
    assert "CheckoutStatus=Keyword" in registered


def test_children_can_reach_localstripe_through_a_proxy(tmp_path: Path) -> None:
    config = load_config(
        {"LOCALSTRIPE_PORT": "18420", "DEVSTACK_STRIPE_API_BASE": "http://127.0.0.1:18421"}, root=tmp_path
    )
    env = child_environment(config, "postgresql://x/y", {})
    assert env["STRIPE_API_BASE"] == "http://127.0.0.1:18421"
    # The supervisor itself still talks to localstripe (the webhook registration).
    assert config.localstripe_url == "http://127.0.0.1:18420"
