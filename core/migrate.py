"""Run Alembic migrations from code (used by `make dev`, the tests and the container entrypoint)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool, text

from core.db import normalize_database_url

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
# pg_advisory_lock key of the migrations ("gt-mig" in ASCII): replicas of the API that start at
# once (docker-compose.yml) migrate one after another; the later ones find the schema at head.
MIGRATION_LOCK = 0x67742D6D6967


def upgrade_to(database_url: str, revision: str) -> None:
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logger"] = False
    url = normalize_database_url(database_url)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            # A session lock: it outlives this transaction and goes with the connection.
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def upgrade_to_head(database_url: str) -> None:
    upgrade_to(database_url, "head")


if __name__ == "__main__":
    from core.db import database_url

    upgrade_to_head(database_url())
