"""Named keys: stored hashed, shown once, revoked at once; the CLI makes the first one."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path

from sqlalchemy import select

from core.db import get_sessionmaker
from domain.roles import Role
from models import ApiKey
from tests.admin.conftest import Operator, bearer, unique

ROOT = Path(__file__).resolve().parents[2]


async def cli(*args: str, database_url: str) -> tuple[int, str, str]:
    """`python -m services.api_keys ...` as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.api_keys",
        *args,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_a_key_is_shown_once_stored_hashed_and_acts_under_its_name(admin: Operator, client) -> None:
    name = unique("ops")

    created = await admin.request("POST", "/admin/api-keys", json={"name": name, "role": "support"})

    assert created.status_code == 201, created.text
    body = created.json()
    secret, key = body["secret"], body["api_key"]
    assert (key["name"], key["role"], key["revoked_at"], key["created_by"]) == (
        name,
        "support",
        None,
        "test-admin",
    )
    assert secret.startswith(key["prefix"]) and len(secret) == 47
    async with get_sessionmaker()() as session:
        row = await session.get(ApiKey, key["id"])
        assert row is not None
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in {str(value) for value in vars(row).values()}
    listed = (await admin.request("GET", "/admin/api-keys")).json()["api_keys"]
    assert secret not in str(listed)
    assert [k["name"] for k in listed if k["id"] == key["id"]] == [name]

    used = await client.get("/admin/outbox", headers=bearer(secret))
    assert used.status_code == 200
    [listed_key] = [
        k for k in (await admin.request("GET", "/admin/api-keys")).json()["api_keys"] if k["id"] == key["id"]
    ]
    assert listed_key["last_used_at"] is not None


async def test_a_taken_name_is_409(admin: Operator) -> None:
    name = unique("ops")
    await admin.request("POST", "/admin/api-keys", json={"name": name, "role": "viewer"})

    again = await admin.request("POST", "/admin/api-keys", json={"name": name, "role": "admin"})

    assert (again.status_code, again.json()["error"]["code"]) == (409, "api_key_name_taken")


async def test_a_revoked_key_is_refused_on_the_next_request(admin: Operator, client) -> None:
    created = (
        await admin.request("POST", "/admin/api-keys", json={"name": unique("ops"), "role": "admin"})
    ).json()
    headers = bearer(created["secret"])
    assert (await client.get("/admin/products", headers=headers)).status_code == 200

    revoked = await admin.request("POST", f"/admin/api-keys/{created['api_key']['id']}/revoke")

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["api_key"]["revoked_at"] is not None
    refused = await client.get("/admin/products", headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "unauthorized")
    again = await admin.request("POST", f"/admin/api-keys/{created['api_key']['id']}/revoke")
    assert again.json()["api_key"]["revoked_at"] == revoked.json()["api_key"]["revoked_at"]
    actions = [
        entry["action"]
        for entry in (
            await admin.request("GET", "/admin/audit-log", params={"entity_id": created["api_key"]["id"]})
        ).json()["entries"]
    ]
    assert actions == ["api_key.revoke", "api_key.create"]


async def test_a_key_may_revoke_itself(admin: Operator, client) -> None:
    created = (
        await admin.request("POST", "/admin/api-keys", json={"name": unique("ops"), "role": "admin"})
    ).json()
    headers = bearer(created["secret"])

    revoked = await client.post(f"/admin/api-keys/{created['api_key']['id']}/revoke", headers=headers)

    assert revoked.status_code == 200
    assert (await client.get("/admin/api-keys", headers=headers)).status_code == 401


async def test_an_unknown_key_id_is_404(admin: Operator) -> None:
    response = await admin.request("POST", "/admin/api-keys/apikey_nope/revoke")

    assert (response.status_code, response.json()["error"]["code"]) == (404, "api_key_not_found")


async def test_the_cli_creates_lists_and_revokes_keys(client, database_url: str) -> None:
    name = unique("first")

    code, secret, told = await cli("create", "--name", name, "--role", "admin", database_url=database_url)

    assert code == 0, told
    secret = secret.strip()
    assert "shown only now" in told
    assert (await client.get("/admin/api-keys", headers=bearer(secret))).status_code == 200
    code, listing, _ = await cli("list", database_url=database_url)
    assert code == 0
    [line] = [line for line in listing.splitlines() if f"  {name}  " in line]
    assert "admin" in line and "active" in line and secret not in listing
    async with get_sessionmaker()() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.name == name))
        assert row is not None and row.created_by == "cli" and row.role == Role.ADMIN

    code, _, told = await cli("revoke", "--name", name, database_url=database_url)

    assert code == 0, told
    assert (await client.get("/admin/api-keys", headers=bearer(secret))).status_code == 401


async def test_the_cli_refuses_bad_names_and_unknown_keys(database_url: str) -> None:
    for args, message in (
        (("create", "--name", "seed", "--role", "admin"), "reserved"),
        (("create", "--name", "tab\tname", "--role", "admin"), "pattern"),
        (("revoke", "--name", unique("nobody")), "was not found"),
    ):
        code, out, told = await cli(*args, database_url=database_url)
        assert (code, out) == (2, ""), told
        assert message in told


async def test_the_cli_says_what_is_missing_without_a_database(tmp_path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.api_keys",
        "list",
        cwd=tmp_path,  # no .env here
        env={**os.environ, "DATABASE_URL": "", "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 2
    assert "DATABASE_URL is not set" in stderr.decode()
