"""Replicas of the API start at once and each migrates (the image's command, docker-compose.yml):
they take turns, so every one of them starts and the schema is migrated once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
from sqlalchemy.engine import make_url

from core.migrate import upgrade_to_head
from tests.conftest import fresh_database

REPLICAS = 3


def test_replicas_migrating_at_once_all_succeed_and_reach_head(database_url: str) -> None:
    with fresh_database(database_url, f"{make_url(database_url).database}_replicas") as url:
        with ThreadPoolExecutor(REPLICAS) as pool:
            # .result() re-raises a replica's failure (a table created twice, a version row clash).
            for started in [pool.submit(upgrade_to_head, url) for _ in range(REPLICAS)]:
                started.result()
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as conn:
            versions = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert len(versions) == 1
