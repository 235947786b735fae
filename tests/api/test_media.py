"""Product images end to end: the seed writes them through the media store, the store serves them.

Local store: the API serves LOCAL_MEDIA_DIR at /media. S3: a moto server on 127.0.0.1 stands
in for R2/S3 (boto3 with endpoint_url, as for R2).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from core.media import LocalMediaStore, S3MediaStore, media_store_from
from core.settings import Settings
from devstack.seed import PRODUCTS, product_images, seed_demo_catalog, swatch_svg
from models import Product, ProductImage

SVG = "image/svg+xml"


# --- local store, served by the API ------------------------------------------------------------


async def test_a_seeded_products_image_is_served_by_the_api(client, demo, media_dir):
    product = (await client.get("/store/products/classic-bath-towel")).json()["product"]

    urls = [image["url"] for image in product["images"]]
    assert urls == [
        "/media/products/classic-bath-towel/sand.svg",
        "/media/products/classic-bath-towel/sage.svg",
        "/media/products/classic-bath-towel/slate.svg",
    ]
    response = await client.get(urls[0])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(SVG)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert b"Classic Bath Towel" in response.content
    assert b'fill="#d8c3a0"' in response.content  # Sand
    assert (media_dir / "products/classic-bath-towel/sand.svg").read_bytes() == response.content


async def test_every_published_products_images_are_fetchable(client, demo):
    published = [seed.handle for seed in PRODUCTS if seed.status == "published"]
    assert len(published) >= 6
    # By handle: other tests' products (without images) may be listed by then, and more than a page.
    for handle in published:
        product = (await client.get(f"/store/products/{handle}")).json()["product"]
        assert product["images"], handle
        for image in product["images"]:
            response = await client.get(image["url"])
            assert response.status_code == 200, image["url"]
            assert response.headers["content-type"].startswith(SVG)


async def test_unknown_media_is_404_and_paths_cannot_escape_the_directory(client, demo):
    assert (await client.get("/media/products/classic-bath-towel/nope.svg")).status_code == 404
    assert (await client.get("/media/../pyproject.toml")).status_code == 404
    assert (await client.get("/media/%2e%2e/%2e%2e/pyproject.toml")).status_code == 404


async def test_seeding_again_rewrites_no_file_and_adds_no_row(session, demo, media_dir):
    files = {path: path.stat().st_mtime_ns for path in media_dir.rglob("*") if path.is_file()}
    expected = sum(len(product_images(seed)) for seed in PRODUCTS)
    assert len(files) == expected

    await seed_demo_catalog(session)

    assert {path: path.stat().st_mtime_ns for path in media_dir.rglob("*") if path.is_file()} == files
    urls = (await session.scalars(select(ProductImage.url))).all()
    assert len(urls) == expected == len(set(urls))
    await session.rollback()


async def test_the_seed_replaces_legacy_rows_and_follows_a_moved_store(session, demo, media_dir):
    product = await session.scalar(select(Product).where(Product.handle == "ribbed-bath-mat"))
    assert product is not None
    images = list(
        await session.scalars(
            select(ProductImage).where(ProductImage.product_id == product.id).order_by(ProductImage.rank)
        )
    )
    assert [image.url for image in images] == [
        "/media/products/ribbed-bath-mat/sand.svg",
        "/media/products/ribbed-bath-mat/slate.svg",
    ]
    # As an older seed left it (a URL nothing served), and as if the images had been in a bucket.
    images[0].url = "https://old-bucket.example/products/ribbed-bath-mat/sand.svg"
    session.add(ProductImage(id="img_moved_slate", product_id=product.id, url=images[1].url, rank=1))
    images[1].url = "/media/products/ribbed-bath-mat/front.jpg"
    await session.commit()

    await seed_demo_catalog(session)

    urls = (
        await session.scalars(
            select(ProductImage.url).where(ProductImage.product_id == product.id).order_by(ProductImage.rank)
        )
    ).all()
    assert sorted(urls) == [
        "/media/products/ribbed-bath-mat/sand.svg",
        "/media/products/ribbed-bath-mat/slate.svg",
    ]
    await session.rollback()


# --- the local store itself ---------------------------------------------------------------------


async def test_local_store_puts_idempotently_and_refuses_unsafe_keys(tmp_path):
    store = LocalMediaStore(tmp_path / "media")
    data = swatch_svg("Grace's <Towel>", "Sand & Sea", "#d8c3a0")

    assert await store.put("products/x/sand.svg", data, SVG) == "/media/products/x/sand.svg"
    assert await store.put("products/x/sand.svg", data, SVG) == "/media/products/x/sand.svg"
    assert (tmp_path / "media/products/x/sand.svg").read_bytes() == data
    assert [p.name for p in (tmp_path / "media/products/x").iterdir()] == ["sand.svg"]
    assert b"Grace's &lt;Towel&gt;" in data
    assert b"Sand &amp; Sea" in data

    for bad in ("../escape.svg", "/etc/passwd.svg", "a//b.svg", "a/.hidden.svg", "", "a b.svg"):
        with pytest.raises(ValueError, match="invalid media key"):
            await store.put(bad, data, SVG)
    with pytest.raises(ValueError, match="served as"):
        await store.put("products/x/sand.png", data, SVG)
    assert not (tmp_path / "escape.svg").exists()


# --- S3 (a moto server on loopback standing in for R2) ------------------------------------------

BUCKET = "gracestowel-media"
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ],
}
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region_name": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        admin = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        admin.create_bucket(Bucket=BUCKET)
        # Public reads, as a bucket that serves images is set up (an R2 bucket's public access).
        admin.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
        yield endpoint
    finally:
        server.stop()


async def test_s3_store_puts_an_image_that_boto3_and_http_read_back(s3_endpoint):
    store = S3MediaStore(BUCKET, endpoint_url=s3_endpoint, **CREDENTIALS)
    seed = next(seed for seed in PRODUCTS if seed.handle == "turkish-beach-towel")
    image = product_images(seed)[0]

    url = await store.put(image.key, image.data, SVG)
    assert url == f"{s3_endpoint}/{BUCKET}/products/turkish-beach-towel/indigo.svg"
    assert await store.put(image.key, image.data, SVG) == url  # same key: same object, same URL

    stored = store.client.get_object(Bucket=BUCKET, Key=image.key)
    assert stored["ContentType"] == SVG
    assert stored["Body"].read() == image.data
    listed = store.client.list_objects_v2(Bucket=BUCKET, Prefix="products/turkish-beach-towel/")
    assert [obj["Key"] for obj in listed["Contents"]] == [image.key]

    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(SVG)
    assert response.content == image.data


async def test_s3_store_uses_the_public_base_url_when_set(s3_endpoint):
    store = S3MediaStore(
        BUCKET, endpoint_url=s3_endpoint, public_base_url="https://images.example.com/", **CREDENTIALS
    )
    url = await store.put("products/x/sand.svg", b"<svg/>", SVG)
    assert url == "https://images.example.com/products/x/sand.svg"
    assert store.client.get_object(Bucket=BUCKET, Key="products/x/sand.svg")["Body"].read() == b"<svg/>"


async def test_settings_choose_s3_when_a_bucket_is_set(s3_endpoint, tmp_path):
    local = media_store_from(Settings(local_media_dir=str(tmp_path / "m")))
    assert isinstance(local, LocalMediaStore)
    assert local.directory == (tmp_path / "m").resolve()

    s3 = media_store_from(
        Settings(
            s3_bucket=BUCKET,
            s3_endpoint_url=s3_endpoint,
            s3_access_key_id="testing",
            s3_secret_access_key="testing",
        )
    )
    assert isinstance(s3, S3MediaStore)
    url = await s3.put("products/y/sand.svg", b"<svg/>", SVG)
    assert url == f"{s3_endpoint}/{BUCKET}/products/y/sand.svg"
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).content == b"<svg/>"
