"""Cart logic shared by the store API and the checkout activities.

Mutations must run inside the caller's transaction (`async with session.begin():`). Each
one locks the cart row (`SELECT ... FOR UPDATE`) so concurrent changes to one cart queue up
instead of losing updates, refuses a completed cart, re-reads every line's price from
`variant_prices` in the cart's currency (a client never sends a price) and bumps
`cart.version`, from which payment idempotency keys are derived.

Refusals are ServiceErrors with a stable `code`; mapping them to HTTP is the API's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.ids import new_id
from domain.pricing import CartTotals, compute_totals
from models import Cart, CartShippingMethod, Country, LineItem, Region, ShippingOption
from models.cart import MAX_LINE_QUANTITY
from services.catalog import (
    availability,
    get_region,
    get_sellable_variant,
    is_plausible_key,
    price_in,
    variant_prices,
)
from services.errors import ServiceError
from services.inventory import InsufficientInventory

_LINE_TITLE_MAX = 600  # line_items.title


class CartNotFound(ServiceError):
    code = "cart_not_found"


# --- reads -------------------------------------------------------------------------------


async def load_cart(session: AsyncSession, cart_id: str, *, for_update: bool = False) -> Cart:
    """The cart with its items and shipping method, freshly read (and row-locked if asked)."""
    if not is_plausible_key(cart_id):
        raise CartNotFound(f"Cart {cart_id!r} was not found")
    statement = (
        select(Cart)
        .where(Cart.id == cart_id)
        .options(selectinload(Cart.items), selectinload(Cart.shipping_method))
        # Objects already in the session must show what the database holds now, above all
        # after waiting for another transaction's lock on this row.
        .execution_options(populate_existing=True)
    )
    if for_update:
        statement = statement.with_for_update(of=Cart)
    cart = await session.scalar(statement)
    if cart is None:
        raise CartNotFound(f"Cart {cart_id!r} was not found")
    return cart


async def cart_totals(session: AsyncSession, cart: Cart) -> CartTotals:
    """Totals from the cart's stored prices (set by its last change) and its region's tax rate."""
    tax_rate_bps = await session.scalar(select(Region.tax_rate_bps).where(Region.id == cart.region_id))
    shipping_amount = cart.shipping_method.amount if cart.shipping_method is not None else 0
    return compute_totals(
        ((item.unit_price, item.quantity) for item in cart.items), shipping_amount, tax_rate_bps or 0
    )


# --- mutations (call inside a transaction) -----------------------------------------------


async def create_cart(session: AsyncSession, region_id: str, *, email: str | None = None) -> Cart:
    region = await get_region(session, region_id)
    if region is None:
        raise ServiceError(f"Region {region_id!r} was not found", code="region_not_found")
    cart = Cart(
        id=new_id("cart"),
        region_id=region.id,
        currency_code=region.currency_code,
        sales_channel_id=region.sales_channel_id,
        email=email,
        version=1,
        items=[],
        shipping_method=None,
    )
    session.add(cart)
    await session.flush()
    return cart


async def add_line_item(session: AsyncSession, cart_id: str, variant_id: str, quantity: int) -> Cart:
    """Add units of a variant; a variant already in the cart gets its quantity increased."""
    cart = await _lock_open_cart(session, cart_id)
    found = await get_sellable_variant(session, variant_id)
    if found is None:
        raise ServiceError(f"Variant {variant_id!r} was not found", code="variant_not_found")
    variant, product_title = found
    unit_price = price_in(variant, cart.currency_code)
    if unit_price is None:
        raise ServiceError(
            f"Variant {variant_id!r} has no price in {cart.currency_code}", code="variant_not_priced"
        )
    existing = next((item for item in cart.items if item.variant_id == variant.id), None)
    new_quantity = quantity + (existing.quantity if existing is not None else 0)
    _check_quantity_limit(new_quantity)
    await _check_in_stock(session, cart, variant.id, new_quantity)
    if existing is not None:
        existing.quantity = new_quantity
    else:
        cart.items.append(
            LineItem(
                id=new_id("item"),
                cart_id=cart.id,
                variant_id=variant.id,
                title=f"{product_title} / {variant.title}"[:_LINE_TITLE_MAX],
                sku=variant.sku,
                quantity=new_quantity,
                unit_price=unit_price,
            )
        )
    await _record_change(session, cart)
    return cart


async def update_line_item(session: AsyncSession, cart_id: str, item_id: str, quantity: int) -> Cart:
    cart = await _lock_open_cart(session, cart_id)
    item = _find_item(cart, item_id)
    _check_quantity_limit(quantity)
    await _check_in_stock(session, cart, item.variant_id, quantity)
    item.quantity = quantity
    await _record_change(session, cart)
    return cart


async def remove_line_item(session: AsyncSession, cart_id: str, item_id: str) -> Cart:
    cart = await _lock_open_cart(session, cart_id)
    cart.items.remove(_find_item(cart, item_id))  # delete-orphan cascade deletes the row
    await _record_change(session, cart)
    return cart


async def update_cart_details(
    session: AsyncSession,
    cart_id: str,
    *,
    email: str | None = None,
    shipping_address: Mapping[str, Any] | None = None,
) -> Cart:
    """Set the email and/or shipping address; a field passed as None is left unchanged."""
    cart = await _lock_open_cart(session, cart_id)
    if email is not None:
        cart.email = email
    if shipping_address is not None:
        await _check_country_in_region(session, cart, str(shipping_address["country_code"]))
        cart.shipping_address = dict(shipping_address)
    await _record_change(session, cart)
    return cart


async def set_shipping_method(session: AsyncSession, cart_id: str, option_id: str) -> Cart:
    """Choose the cart's one shipping method, replacing any earlier choice."""
    cart = await _lock_open_cart(session, cart_id)
    option = await session.get(ShippingOption, option_id) if is_plausible_key(option_id) else None
    if option is None:
        raise ServiceError(f"Shipping option {option_id!r} was not found", code="shipping_option_not_found")
    if option.region_id != cart.region_id:
        raise ServiceError(
            f"Shipping option {option_id!r} is not available in the cart's region",
            code="invalid_shipping_option",
        )
    method = cart.shipping_method
    if method is None:
        method = cart.shipping_method = CartShippingMethod(id=new_id("shipmeth"), cart_id=cart.id)
    # Replaced in place: a delete plus an insert in one flush could trip the unique cart_id.
    method.shipping_option_id, method.name, method.amount = option.id, option.name, option.amount
    await _record_change(session, cart)
    return cart


async def reprice(session: AsyncSession, cart: Cart) -> None:
    """Bring the cart's prices up to the catalog's; a cart whose prices changed gets a new version."""
    before = _prices_of(cart)
    await refresh_prices(session, cart)
    if _prices_of(cart) != before:
        cart.version += 1
        await session.flush()


def _prices_of(cart: Cart) -> tuple[list[int], int | None]:
    method = cart.shipping_method
    return [item.unit_price for item in cart.items], method.amount if method is not None else None


async def refresh_prices(session: AsyncSession, cart: Cart) -> None:
    """Set every line's unit price and the shipping amount from the server's current prices."""
    prices = await variant_prices(session, {item.variant_id for item in cart.items}, cart.currency_code)
    for item in cart.items:
        price = prices.get(item.variant_id)
        if price is None:
            raise ServiceError(
                f"Variant {item.variant_id!r} has no price in {cart.currency_code}", code="variant_not_priced"
            )
        item.unit_price = price
    method = cart.shipping_method
    if method is not None:
        option = await session.scalar(
            select(ShippingOption).where(ShippingOption.id == method.shipping_option_id)
        )
        if option is not None:
            method.name, method.amount = option.name, option.amount


# --- helpers -----------------------------------------------------------------------------


async def _lock_open_cart(session: AsyncSession, cart_id: str) -> Cart:
    cart = await load_cart(session, cart_id, for_update=True)
    if cart.completed_at is not None:
        raise ServiceError(f"Cart {cart_id!r} is completed and can no longer change", code="cart_completed")
    return cart


async def _record_change(session: AsyncSession, cart: Cart) -> None:
    await refresh_prices(session, cart)
    cart.version += 1
    await session.flush()


def _find_item(cart: Cart, item_id: str) -> LineItem:
    item = next((item for item in cart.items if item.id == item_id), None)
    if item is None:
        raise ServiceError(
            f"Line item {item_id!r} was not found in cart {cart.id!r}", code="line_item_not_found"
        )
    return item


def _check_quantity_limit(quantity: int) -> None:
    if quantity > MAX_LINE_QUANTITY:
        raise ServiceError(
            f"A cart line can hold at most {MAX_LINE_QUANTITY} units (got {quantity})",
            code="quantity_limit_exceeded",
        )


async def _check_in_stock(session: AsyncSession, cart: Cart, variant_id: str, quantity: int) -> None:
    stock = (await availability(session, [variant_id], cart.sales_channel_id))[variant_id]
    if not stock.can_sell(quantity):
        raise InsufficientInventory(variant_id, quantity, stock.available)


async def _check_country_in_region(session: AsyncSession, cart: Cart, country_code: str) -> None:
    region_id = await session.scalar(select(Country.region_id).where(Country.iso_2 == country_code))
    if region_id != cart.region_id:
        raise ServiceError(
            f"Country {country_code!r} is not in the cart's region", code="country_not_in_region"
        )
