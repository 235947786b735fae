"""Named admin API keys: create (the secret is shown once), list, revoke, and who a secret belongs to.

A secret is `gtk_` + 43 URL-safe characters (256 random bits); only its SHA-256 is stored, the
standard for high-entropy tokens (no salt or slow hash needed: it cannot be guessed or found
in a dictionary). Revocation takes effect on the next request: every request looks the key up.

The first key of a fresh database comes from the command line (DATABASE_URL must be set):

    python -m services.api_keys create --name alice --role admin   # prints the secret, once
    python -m services.api_keys list
    python -m services.api_keys revoke --name alice
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ids import new_id
from domain.roles import NewApiKey, Role
from models import ApiKey
from services import audit
from services.errors import ServiceError, flush_unique

SECRET_PREFIX = "gtk_"
_SECRET = re.compile(r"gtk_[A-Za-z0-9_-]{43}")
# Characters of the secret kept in clear to tell keys apart in a list ("gtk_AbCdEfGh").
_DISPLAY_PREFIX_LENGTH = 12
# last_used_at is written at most this often per key: a busy key is not a write per request.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# The actor of keys made on the command line.
CLI_ACTOR = "cli"


class ApiKeyNotFound(ServiceError):
    code = "api_key_not_found"


@dataclass(frozen=True)
class IssuedKey:
    """A new key and its secret: the only time the secret exists outside the caller's hands."""

    key: ApiKey
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_key(session: AsyncSession, new: NewApiKey, *, actor: str) -> IssuedKey:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id("apikey"),
        name=new.name,
        role=new.role.value,
        secret_hash=_hash(secret),
        prefix=secret[:_DISPLAY_PREFIX_LENGTH],
        created_by=actor,
    )
    session.add(key)
    await flush_unique(session, {"uq_api_keys_name": "api_key_name_taken"})
    await session.refresh(key)  # created_at, set by the database
    await audit.record(
        session,
        actor=actor,
        entity_type="api_key",
        entity_id=key.id,
        verb="create",
        data={"name": key.name, "role": key.role},
    )
    return IssuedKey(key=key, secret=secret)


async def list_keys(session: AsyncSession) -> Sequence[ApiKey]:
    return (await session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))).all()


async def find_key(session: AsyncSession, *, key_id: str | None = None, name: str | None = None) -> ApiKey:
    """The key with this ID (or else this name), row-locked for a change."""
    condition = ApiKey.id == key_id if key_id is not None else ApiKey.name == name
    key = await session.scalar(select(ApiKey).where(condition).with_for_update())
    if key is None:
        raise ApiKeyNotFound(f"API key {key_id or name!r} was not found")
    return key


async def revoke_key(session: AsyncSession, key: ApiKey, *, actor: str) -> ApiKey:
    """Revoke the key from its next request on; revoking it again changes nothing."""
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await audit.record(
            session,
            actor=actor,
            entity_type="api_key",
            entity_id=key.id,
            verb="revoke",
            data={"name": key.name},
        )
        await session.flush()
    return key


async def authenticate(session: AsyncSession, secret: str) -> ApiKey | None:
    """The live (unrevoked) key with this secret, or None; notes when it was last used."""
    if _SECRET.fullmatch(secret) is None:
        return None  # not one of ours: no database lookup for arbitrary input
    key = await session.scalar(
        select(ApiKey).where(ApiKey.secret_hash == _hash(secret), ApiKey.revoked_at.is_(None))
    )
    if key is None:
        return None
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    return key


# --- the command line ------------------------------------------------------------------------


def _describe(key: ApiKey) -> str:
    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
    return f"{key.id}  {key.name}  {key.role}  {key.prefix}…  {state}"


async def _run(args: argparse.Namespace) -> int:
    from core.db import get_engine, get_sessionmaker

    try:
        async with get_sessionmaker()() as session, session.begin():
            if args.command == "create":
                issued = await create_key(session, NewApiKey(name=args.name, role=args.role), actor=CLI_ACTOR)
                print(
                    f"created {issued.key.role} key {issued.key.name!r} ({issued.key.id});", file=sys.stderr
                )
                print("its secret, shown only now (Authorization: Bearer <secret>):", file=sys.stderr)
                print(issued.secret)
            elif args.command == "list":
                for key in await list_keys(session):
                    print(_describe(key))
            else:
                key = await revoke_key(session, await find_key(session, name=args.name), actor=CLI_ACTOR)
                print(_describe(key))
    finally:
        await get_engine().dispose()
    return 0


def _use_running_dev_database() -> None:
    """Without DATABASE_URL, the database of the `make dev` running in this checkout, if one is:
    the first key of a fresh dev stack is one command."""
    from core.settings import get_settings

    if get_settings().database_url:
        return
    from devstack.config import DATABASE_NAME, load_config
    from devstack.postgres import running_embedded_url

    url = running_embedded_url(load_config().pgdata, DATABASE_NAME)
    if url is not None:
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.api_keys", description="Admin API keys")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key and print its secret (once)")
    create.add_argument("--name", required=True, help="who uses the key: the actor of what it changes")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    commands.add_parser("list", help="list the keys (never a secret)")
    revoke = commands.add_parser("revoke", help="revoke a key, from its next request on")
    revoke.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    _use_running_dev_database()
    try:
        return asyncio.run(_run(args))
    except ValidationError as exc:
        print(f"error: {'; '.join(str(error['msg']) for error in exc.errors())}", file=sys.stderr)
    except (ServiceError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
