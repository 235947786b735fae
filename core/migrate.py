"""Run Alembic migrations from code (used by `make dev`, the tests and the container entrypoint)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from core.db import normalize_database_url

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def upgrade_to(database_url: str, revision: str) -> None:
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logger"] = False
    config.set_main_option("sqlalchemy.url", normalize_database_url(database_url).replace("%", "%%"))
    command.upgrade(config, revision)


def upgrade_to_head(database_url: str) -> None:
    upgrade_to(database_url, "head")


if __name__ == "__main__":
    from core.db import database_url

    upgrade_to_head(database_url())
