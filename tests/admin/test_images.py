"""Product images: upload into the media store (local directory, S3 on moto), the store shows them, delete.

The object key is always ours (`products/{product_id}/{image_id}.{ext}`), the type is what the
bytes are, and the size is bounded by MEDIA_MAX_UPLOAD_BYTES.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from botocore.exceptions import ClientError
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from PIL import Image

from core.media import S3MediaStore
from core.settings import get_settings
from domain.roles import Role
from tests.admin.conftest import Operator, bearer, product_body, row_counts
from tests.api.test_media import BUCKET, s3_endpoint

__all__ = ["s3_endpoint"]  # moto's S3 on loopback, shared with the media store's own tests


def picture(fmt: str = "PNG", size: tuple[int, int] = (16, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (216, 195, 160)).save(buffer, fmt)
    return buffer.getvalue()


def upload(data: bytes, content_type: str, filename: str = "photo.png") -> dict:
    return {"files": {"file": (filename, data, content_type)}}


async def test_an_uploaded_image_is_stored_served_and_shown_in_the_store(
    admin: Operator, client, warehouses, media_dir
) -> None:
    product = await admin.create_product(product_body(warehouses))
    data = picture("JPEG")

    # The client's file name is never a key: this one would climb out of the directory.
    response = await admin.request(
        "POST",
        f"/admin/products/{product['id']}/images",
        **upload(data, "image/jpeg", "../../../etc/evil.sh"),
    )

    assert response.status_code == 201, response.text
    image = response.json()["image"]
    assert image["url"] == f"/media/products/{product['id']}/{image['id']}.jpg"
    assert (media_dir / f"products/{product['id']}/{image['id']}.jpg").read_bytes() == data
    served = await client.get(image["url"])
    assert (served.status_code, served.headers["content-type"], served.content) == (200, "image/jpeg", data)
    store = (await client.get(f"/store/products/{product['id']}")).json()["product"]
    assert store["images"] == [image]

    deleted = await admin.request("DELETE", f"/admin/images/{image['id']}")

    assert deleted.status_code == 200, deleted.text
    assert not (media_dir / f"products/{product['id']}/{image['id']}.jpg").exists()
    assert (await client.get(image["url"])).status_code == 404
    assert (await client.get(f"/store/products/{product['id']}")).json()["product"]["images"] == []
    again = await admin.request("DELETE", f"/admin/images/{image['id']}")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "image_not_found")
    actions = [
        (entry["action"], entry["data"]["image_id"])
        for entry in (
            await admin.request("GET", "/admin/audit-log", params={"entity_id": product["id"]})
        ).json()["entries"]
        if entry["action"] != "product.create"
    ]
    assert actions == [("product.remove_image", image["id"]), ("product.add_image", image["id"])]


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp"), ("GIF", "image/gif", "gif")],
)
async def test_png_webp_and_gif_are_accepted(
    admin: Operator, client, warehouses, fmt, content_type, extension
) -> None:
    product = await admin.create_product(product_body(warehouses))

    response = await admin.request(
        "POST", f"/admin/products/{product['id']}/images", **upload(picture(fmt), content_type)
    )

    assert response.status_code == 201, response.text
    url = response.json()["image"]["url"]
    assert url.endswith(f".{extension}")
    assert (await client.get(url)).headers["content-type"] == content_type


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (SVG, "image/svg+xml", 415, "unsupported_image_type"),
        (picture("BMP"), "image/bmp", 415, "unsupported_image_type"),
        (b"#!/bin/sh\nrm -rf /\n", "image/png", 415, "unsupported_image_type"),
        (picture("PNG")[:40], "image/png", 415, "unsupported_image_type"),
        (picture("PNG"), "image/jpeg", 415, "image_type_mismatch"),
        (picture("JPEG"), "application/octet-stream", 415, "image_type_mismatch"),
    ],
    ids=["svg", "bmp", "a script", "a truncated png", "a png sent as jpeg", "an untyped jpeg"],
)
async def test_what_is_not_a_whole_image_of_its_type_is_refused(
    admin: Operator, warehouses, media_dir, data, content_type, status, code
) -> None:
    product = await admin.create_product(product_body(warehouses))
    before = await row_counts()

    response = await admin.request(
        "POST", f"/admin/products/{product['id']}/images", **upload(data, content_type)
    )

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not (media_dir / "products" / product["id"]).exists()
    assert await row_counts() == before


async def test_an_image_over_the_size_limit_is_413(
    admin: Operator, warehouses, media_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = await admin.create_product(product_body(warehouses))
    data = picture("PNG", (64, 64))
    monkeypatch.setattr(get_settings(), "media_max_upload_bytes", len(data) - 1)

    response = await admin.request(
        "POST", f"/admin/products/{product['id']}/images", **upload(data, "image/png")
    )

    assert (response.status_code, response.json()["error"]["code"]) == (413, "image_too_large")
    assert not (media_dir / "products" / product["id"]).exists()


async def test_an_upload_needs_a_product_and_a_file(admin: Operator, warehouses) -> None:
    missing = await admin.request(
        "POST", "/admin/products/prod_nope/images", **upload(picture(), "image/png")
    )
    product = await admin.create_product(product_body(warehouses))
    no_file = await admin.request("POST", f"/admin/products/{product['id']}/images")

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "product_not_found")
    assert (no_file.status_code, no_file.json()["error"]["code"]) == (400, "invalid_request")


# --- the same round trip on S3 (moto standing in for R2) -------------------------------------


@pytest.fixture
async def s3_app(
    s3_endpoint: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FastAPI]:
    """The API configured for a bucket, as in production with R2."""
    from api.main import create_app

    for name, value in {
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        app = create_app()
        assert isinstance(app.state.media, S3MediaStore)
        yield app
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_an_image_round_trips_through_s3(s3_app: FastAPI, s3_endpoint, keys, warehouses) -> None:
    async with AsyncClient(transport=ASGITransport(app=s3_app), base_url="http://testserver") as s3_client:
        admin = Operator(http=s3_client, headers=bearer(keys[Role.ADMIN]))
        product = await admin.create_product(product_body(warehouses))
        data = picture("WEBP")

        response = await admin.request(
            "POST", f"/admin/products/{product['id']}/images", **upload(data, "image/webp")
        )

        assert response.status_code == 201, response.text
        image = response.json()["image"]
        key = f"products/{product['id']}/{image['id']}.webp"
        assert image["url"] == f"{s3_endpoint}/{BUCKET}/{key}"
        async with httpx.AsyncClient() as http:
            fetched = await http.get(image["url"])
        assert (fetched.status_code, fetched.headers["content-type"], fetched.content) == (
            200,
            "image/webp",
            data,
        )
        store = (await s3_client.get(f"/store/products/{product['id']}")).json()["product"]
        assert store["images"] == [image]

        deleted = await admin.request("DELETE", f"/admin/images/{image['id']}")

        assert deleted.status_code == 200, deleted.text
        with pytest.raises(ClientError, match="NoSuchKey"):
            s3_app.state.media.client.get_object(Bucket=BUCKET, Key=key)
        assert (await s3_client.get(f"/store/products/{product['id']}")).json()["product"]["images"] == []
