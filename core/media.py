"""Product image storage: a local directory in dev, any S3-compatible bucket (Cloudflare R2) in production.

    store = media_store_from(get_settings())
    url = await store.put("products/classic-bath-towel/sand.svg", data, "image/svg+xml")

`put` returns the public URL to store in `ProductImage.url`; putting the same key again
replaces the object and returns the same URL; `delete` removes it (a missing one is no error).
With the local store the API serves the directory at `/media` (api.main); with S3 the bucket
(or `S3_PUBLIC_BASE_URL`) serves it.

`identify_image` tells what an uploaded file really is, from its bytes (Pillow decodes it):
PNG, JPEG, WebP or GIF. SVG is not accepted from uploads: it can carry script, and we do not
sanitize it (the seed's own swatches are SVG, written by our code).
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PIL import Image, UnidentifiedImageError

from core.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Slash-separated segments of URL-safe characters, none starting with a dot: no "..", no
# absolute paths, nothing that needs quoting in a URL.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


def check_key(key: str) -> str:
    if len(key) > 512 or not _KEY.fullmatch(key):
        raise ValueError(f"invalid media key {key!r}: use a/b/c.ext of [A-Za-z0-9._-], no leading dots")
    return key


class MediaStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data` under `key` (replacing what is there) and return its public URL."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object under `key`; one that is not there is not an error."""
        ...


@dataclass(frozen=True, slots=True)
class ImageKind:
    content_type: str
    extension: str


# What uploads may be, by Pillow's name of the format.
UPLOADABLE_IMAGES = {
    "PNG": ImageKind("image/png", "png"),
    "JPEG": ImageKind("image/jpeg", "jpg"),
    "WEBP": ImageKind("image/webp", "webp"),
    "GIF": ImageKind("image/gif", "gif"),
}


def identify_image(data: bytes) -> ImageKind | None:
    """What the bytes are if they are a whole PNG, JPEG, WebP or GIF image, else None.

    Pillow reads the header and checks the file's structure (`verify`); an image with more
    pixels than Pillow's decompression-bomb limit is refused too.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(UPLOADABLE_IMAGES)) as image:
                kind = UPLOADABLE_IMAGES.get(image.format or "")
                image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        # What Pillow raises for a truncated or corrupt file.
        OSError,
        SyntaxError,
        ValueError,
    ):
        return None
    return kind


class LocalMediaStore:
    """Files under `directory`, served by the API at `url_prefix` (their type follows the extension)."""

    def __init__(self, directory: str | os.PathLike[str], url_prefix: str = "/media") -> None:
        self.directory = Path(directory).resolve()
        self.url_prefix = "/" + url_prefix.strip("/")

    def url_for(self, key: str) -> str:
        return f"{self.url_prefix}/{check_key(key)}"

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        url = self.url_for(key)
        served_as, _ = mimetypes.guess_type(key)
        if served_as != content_type:
            raise ValueError(
                f"{key!r} would be served as {served_as}, not {content_type}: give it a matching extension"
            )
        await asyncio.to_thread(self._write, self.directory / key, data)
        return url

    async def delete(self, key: str) -> None:
        await asyncio.to_thread((self.directory / check_key(key)).unlink, missing_ok=True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.is_file() and path.read_bytes() == data:
            return  # same content: leave the file (and its mtime, so caches stay valid) alone
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader sees the old file or the new one, never half.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class S3MediaStore:
    """Objects in an S3 bucket: Cloudflare R2 or any S3 endpoint via `endpoint_url`, AWS S3 without it.

    Without explicit credentials or region, boto3's usual chain applies (AWS_* variables,
    ~/.aws, an instance role). The public URL is `public_base_url/key` when given (R2: the
    bucket's r2.dev or custom domain), else `endpoint/bucket/key` (path style).
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        public_base_url: str | None = None,
        region_name: str | None = None,
    ) -> None:
        import boto3  # not imported by the API unless a bucket is configured

        self.bucket = bucket
        self.client: S3Client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region_name,
        )
        base = public_base_url or f"{self.client.meta.endpoint_url.rstrip('/')}/{bucket}"
        self.public_base_url = base.rstrip("/")

    def url_for(self, key: str) -> str:
        return f"{self.public_base_url}/{check_key(key)}"

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        url = self.url_for(key)
        # boto3 is blocking; its clients are thread-safe.
        await asyncio.to_thread(
            self.client.put_object, Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
        )
        return url

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=check_key(key))


def media_store_from(settings: Settings) -> LocalMediaStore | S3MediaStore:
    """S3 (R2) when S3_BUCKET is set, else the local directory LOCAL_MEDIA_DIR."""
    if settings.s3_bucket:
        return S3MediaStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            access_key_id=settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else None,
            secret_access_key=(
                settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
            ),
            public_base_url=settings.s3_public_base_url or None,
        )
    return LocalMediaStore(settings.local_media_dir)
