"""API2 Broken authentication: admin keys are 256-bit secrets stored only as their SHA-256,
compared without leaking time, and refused from the request after their revocation.

(A SHA-256 without salt or stretching is the standard for high-entropy tokens: there is nothing
to guess. Brute force over 256 bits is not a risk a rate limit would change.)
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select

import api.deps
from core.db import get_sessionmaker
from models import ApiKey
from tests.admin.conftest import bearer
from tests.checkout.conftest import admin_headers


async def test_a_key_is_stored_only_as_its_hash(client) -> None:
    secret = (
        await client.post(
            "/admin/api-keys", json={"name": "hash-check", "role": "viewer"}, headers=admin_headers()
        )
    ).json()["secret"]

    async with get_sessionmaker()() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.name == "hash-check"))
    assert row is not None
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(getattr(row, column.key)) for column in ApiKey.__table__.columns]
    assert not any(secret in value for value in stored)
    assert len(secret.removeprefix("gtk_")) >= 43  # 32 random bytes, base64url


async def test_the_bootstrap_token_is_compared_in_constant_time(client, monkeypatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    constant_time = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(api.deps.hmac, "compare_digest", spy)

    response = await client.get("/admin/outbox", headers={"Authorization": "Bearer not-the-token"})

    assert response.status_code == 401
    assert compared and compared[0][0] == b"not-the-token"
    # Named keys are found by the SHA-256 of what was sent: the lookup compares digests, so its
    # timing says nothing about any secret.


async def test_a_revoked_key_is_refused_from_the_next_request_on(client) -> None:
    created = await client.post(
        "/admin/api-keys", json={"name": "soon-gone", "role": "admin"}, headers=admin_headers()
    )
    secret, key_id = created.json()["secret"], created.json()["api_key"]["id"]
    assert (await client.get("/admin/products", headers=bearer(secret))).status_code == 200

    revoked = await client.post(f"/admin/api-keys/{key_id}/revoke", headers=admin_headers())
    after = await client.get("/admin/products", headers=bearer(secret))

    assert revoked.status_code == 200
    assert (after.status_code, after.json()["error"]["code"]) == (401, "unauthorized")
