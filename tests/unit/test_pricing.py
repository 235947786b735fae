"""Cart totals: integer minor units, tax on subtotal + shipping, rounded half up."""

from __future__ import annotations

from dataclasses import astuple
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.pricing import CartTotals, compute_totals, line_subtotal, tax_on


def test_two_lines_plus_shipping_in_eur_at_20_percent() -> None:
    totals = compute_totals([(2900, 2), (1500, 1)], shipping_amount=495, tax_rate_bps=2000)
    assert totals == CartTotals(subtotal=7300, shipping_total=495, tax_total=1559, total=9354)


def test_jpy_whole_yen_at_10_percent() -> None:
    totals = compute_totals([(3200, 2), (2400, 1)], shipping_amount=800, tax_rate_bps=1000)
    assert totals == CartTotals(subtotal=8800, shipping_total=800, tax_total=960, total=10560)


def test_no_tax_region() -> None:
    assert compute_totals([(3200, 3)], 595, 0) == CartTotals(9600, 595, 0, 10195)


def test_empty_cart_without_shipping_is_all_zero() -> None:
    assert compute_totals([], 0, 2000) == CartTotals(0, 0, 0, 0)


@pytest.mark.parametrize(
    ("taxable", "bps", "tax"),
    [
        (5, 1000, 1),  # 0.5 rounds up
        (4, 1000, 0),  # 0.4 rounds down
        (15, 1000, 2),  # 1.5 rounds up (not to even)
        (25, 1000, 3),  # 2.5 rounds up (not to even)
        (1, 5000, 1),  # 0.5 at 50%
        (1, 4999, 0),  # 0.4999
        (199, 2000, 40),  # 39.8
        (1234, 10_000, 1234),  # 100%
        (10**30 + 5, 1000, 10**29 + 1),  # no float anywhere: exact for huge amounts
    ],
)
def test_tax_rounds_half_up(taxable: int, bps: int, tax: int) -> None:
    assert tax_on(taxable, bps) == tax


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=10_000))
def test_tax_matches_exact_rational_half_up(taxable: int, bps: int) -> None:
    exact = Fraction(taxable * bps, 10_000)
    assert tax_on(taxable, bps) == int(exact + Fraction(1, 2))


@given(
    st.lists(st.tuples(st.integers(0, 10**7), st.integers(1, 1000)), max_size=20),
    st.integers(0, 10**6),
    st.integers(0, 10_000),
)
def test_total_is_the_sum_of_its_parts(lines: list[tuple[int, int]], shipping: int, bps: int) -> None:
    totals = compute_totals(lines, shipping, bps)
    assert totals.subtotal == sum(price * quantity for price, quantity in lines)
    assert totals.total == totals.subtotal + totals.shipping_total + totals.tax_total
    assert all(type(value) is int for value in astuple(totals))


def test_accepts_any_iterable_of_lines() -> None:
    assert compute_totals(iter([(100, 2)]), 0, 0).subtotal == 200


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: line_subtotal(-1, 1), ValueError),
        (lambda: line_subtotal(100, -1), ValueError),
        (lambda: line_subtotal(19.99, 1), TypeError),
        (lambda: line_subtotal(True, 1), TypeError),
        (lambda: tax_on(100, 10_001), ValueError),
        (lambda: tax_on(100, -1), ValueError),
        (lambda: compute_totals([], -1, 0), ValueError),
        (lambda: compute_totals([], 0.5, 0), TypeError),
    ],
)
def test_refuses_negative_and_non_integer_amounts(call, error) -> None:
    with pytest.raises(error):
        call()
