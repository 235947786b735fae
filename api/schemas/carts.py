from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from api.schemas.common import Email, PostalCode, Quantity, RequestModel, ResourceId, ShortText
from domain.pricing import CartTotals, line_subtotal
from domain.text import Trimmed
from models import Cart

# Checked as sent (what the schema says), then normalized; a country outside the cart's region
# is the service's refusal (`country_not_in_region`).
CountryCode = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z]{2}$")]
Phone = Annotated[str, Trimmed(pattern=r"^\+?[0-9 ()./-]{3,40}$", max_length=41)]


# --- requests ----------------------------------------------------------------------------


class CreateCartRequest(RequestModel):
    region_id: ResourceId
    email: Email | None = None


class AddLineItemRequest(RequestModel):
    variant_id: ResourceId
    quantity: Quantity


class UpdateLineItemRequest(RequestModel):
    quantity: Quantity


class AddressIn(RequestModel):
    first_name: ShortText
    last_name: ShortText
    address_1: ShortText
    address_2: ShortText | None = None
    city: ShortText
    postal_code: PostalCode
    province: ShortText | None = None
    country_code: CountryCode
    phone: Phone | None = None


class UpdateCartRequest(RequestModel):
    """Fields left out (or null) keep their current value."""

    email: Email | None = None
    shipping_address: AddressIn | None = None


class AddShippingMethodRequest(RequestModel):
    option_id: ResourceId


# --- responses ---------------------------------------------------------------------------


class AddressOut(BaseModel):
    first_name: str
    last_name: str
    address_1: str
    address_2: str | None = None
    city: str
    postal_code: str
    province: str | None = None
    country_code: str
    phone: str | None = None


class LineItemOut(BaseModel):
    id: str
    variant_id: str
    title: str
    sku: str
    quantity: int
    unit_price: int
    subtotal: int


class ShippingMethodOut(BaseModel):
    id: str
    shipping_option_id: str
    name: str
    amount: int


class CartOut(BaseModel):
    """Every amount is in minor units of `currency_code`, computed by the server."""

    id: str
    region_id: str
    currency_code: str
    email: str | None
    shipping_address: AddressOut | None
    items: list[LineItemOut]
    shipping_method: ShippingMethodOut | None
    subtotal: int
    shipping_total: int
    tax_total: int
    total: int
    version: int
    completed_at: datetime | None


class CartResponse(BaseModel):
    cart: CartOut


def _address_out(address: dict[str, Any] | None) -> AddressOut | None:
    return None if address is None else AddressOut.model_validate(address)


def cart_response(cart: Cart, totals: CartTotals) -> CartResponse:
    method = cart.shipping_method
    return CartResponse(
        cart=CartOut(
            id=cart.id,
            region_id=cart.region_id,
            currency_code=cart.currency_code,
            email=cart.email,
            shipping_address=_address_out(cart.shipping_address),
            items=[
                LineItemOut(
                    id=item.id,
                    variant_id=item.variant_id,
                    title=item.title,
                    sku=item.sku,
                    quantity=item.quantity,
                    unit_price=item.unit_price,
                    subtotal=line_subtotal(item.unit_price, item.quantity),
                )
                for item in cart.items
            ],
            shipping_method=None
            if method is None
            else ShippingMethodOut(
                id=method.id,
                shipping_option_id=method.shipping_option_id,
                name=method.name,
                amount=method.amount,
            ),
            subtotal=totals.subtotal,
            shipping_total=totals.shipping_total,
            tax_total=totals.tax_total,
            total=totals.total,
            version=cart.version,
            completed_at=cart.completed_at,
        )
    )
