"""Admin API: product images, uploaded into the media store (local directory or S3/R2).

The file's bytes decide what it is (PNG, JPEG, WebP or GIF; SVG is refused, see core.media),
and must agree with the type it was sent as. Its key is ours, `products/{product_id}/{image_id}.{ext}`,
never the client's file name. The object is stored before its row is written and deleted after
its row is: no network call runs inside a database transaction, and a failure in between leaves
at worst an object no row points to, never a row pointing at nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, UploadFile

from api.deps import AdminDep, MediaDep, SessionDep, SettingsDep
from api.errors import INVALID_REQUEST, APIError, error_responses
from api.schemas.admin_catalog import ImageResponse
from api.schemas.products import ImageOut
from core.media import identify_image
from domain.ids import new_id
from services import products

router = APIRouter(tags=["admin: catalog"])


@router.post(
    "/products/{product_id}/images",
    response_model=ImageResponse,
    status_code=201,
    responses=error_responses(
        {
            400: INVALID_REQUEST + " (the multipart field `file` is required)",
            404: "No such product (`product_not_found`)",
            413: "Larger than MEDIA_MAX_UPLOAD_BYTES (`image_too_large`)",
            415: "Not a PNG, JPEG, WebP or GIF image (`unsupported_image_type`), or not the type it was"
            " sent as (`image_type_mismatch`)",
        }
    ),
)
async def upload_image(
    principal: AdminDep,
    session: SessionDep,
    settings: SettingsDep,
    media: MediaDep,
    product_id: str,
    file: UploadFile,
) -> ImageResponse:
    """Upload an image (multipart field `file`); it is shown last among the product's images."""
    async with session.begin():
        product = await products.get_product(session, product_id)
    limit = settings.media_max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise APIError(413, "image_too_large", f"An image may have at most {limit} bytes")
    kind = identify_image(data)
    if kind is None:
        raise APIError(415, "unsupported_image_type", "Upload a PNG, JPEG, WebP or GIF image")
    if file.content_type != kind.content_type:
        raise APIError(
            415, "image_type_mismatch", f"The file is {kind.content_type}, sent as {file.content_type}"
        )
    image_id = new_id("img")
    key = f"products/{product.id}/{image_id}.{kind.extension}"
    url = await media.put(key, data, kind.content_type)
    async with session.begin():
        image = await products.add_image(
            session, product.id, image_id=image_id, key=key, url=url, actor=principal.name
        )
    return ImageResponse(image=ImageOut(id=image.id, url=image.url))


@router.delete(
    "/images/{image_id}",
    response_model=ImageResponse,
    responses=error_responses({404: "No such image (`image_not_found`)"}),
)
async def delete_image(
    principal: AdminDep, session: SessionDep, media: MediaDep, image_id: str
) -> ImageResponse:
    """Remove the image from its product and from the media store."""
    async with session.begin():
        image = await products.remove_image(session, image_id, actor=principal.name)
    if image.key is not None:  # rows from before migration 0005 may not know their object
        await media.delete(image.key)
    return ImageResponse(image=ImageOut(id=image.id, url=image.url))
