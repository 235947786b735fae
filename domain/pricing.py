"""Cart totals in integer minor units.

Pure module (stdlib only, no I/O) so the Temporal workflow sandbox can load it. Prices are
tax-exclusive; tax is charged on subtotal + shipping at the region's rate in basis points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["BPS_DENOMINATOR", "CartTotals", "compute_totals", "line_subtotal", "tax_on"]

BPS_DENOMINATOR = 10_000


@dataclass(frozen=True, slots=True)
class CartTotals:
    """All amounts in minor units of the cart's currency."""

    subtotal: int
    shipping_total: int
    tax_total: int
    total: int


def _non_negative_int(value: int, what: str) -> int:
    # bool is an int subclass; True as "1 cent" or "1 towel" is always a bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must not be negative: {value}")
    return value


def line_subtotal(unit_price: int, quantity: int) -> int:
    return _non_negative_int(unit_price, "unit_price") * _non_negative_int(quantity, "quantity")


def tax_on(taxable_amount: int, tax_rate_bps: int) -> int:
    """Tax rounded half up to the minor unit, with integer arithmetic only (never a float)."""
    taxable = _non_negative_int(taxable_amount, "taxable_amount")
    rate = _non_negative_int(tax_rate_bps, "tax_rate_bps")
    if rate > BPS_DENOMINATOR:
        raise ValueError(f"tax_rate_bps must be at most {BPS_DENOMINATOR}: {rate}")
    # Adding half the denominator before floor division rounds .5 up (all values are >= 0).
    return (taxable * rate + BPS_DENOMINATOR // 2) // BPS_DENOMINATOR


def compute_totals(lines: Iterable[tuple[int, int]], shipping_amount: int, tax_rate_bps: int) -> CartTotals:
    """Totals for `(unit_price, quantity)` lines plus one shipping amount."""
    subtotal = sum(line_subtotal(unit_price, quantity) for unit_price, quantity in lines)
    shipping_total = _non_negative_int(shipping_amount, "shipping_amount")
    tax_total = tax_on(subtotal + shipping_total, tax_rate_bps)
    return CartTotals(
        subtotal=subtotal,
        shipping_total=shipping_total,
        tax_total=tax_total,
        total=subtotal + shipping_total + tax_total,
    )
