"""Behaviour of domain.money: exponents, exact conversions, Stripe amounts, display."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from babel.numbers import list_currencies
from hypothesis import given
from hypothesis import strategies as st

from domain.money import (
    THREE_DECIMAL_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
    CurrencyError,
    Money,
    MoneyError,
    exponent,
    format_money,
    from_stripe_amount,
    normalize_currency,
    to_major,
    to_minor,
    to_stripe_amount,
)


def _accepted(code: str) -> bool:
    try:
        normalize_currency(code)
    except CurrencyError:
        return False
    return True


BABEL_CURRENCIES = sorted(code for code in list_currencies() if _accepted(code))
currencies = st.sampled_from(BABEL_CURRENCIES)


def test_babel_list_is_usable() -> None:
    # Guards the property tests below against silently sampling from almost nothing.
    assert len(BABEL_CURRENCIES) > 150
    assert {"EUR", "USD", "JPY", "KWD", "ISK"} <= set(BABEL_CURRENCIES)


# --- currency codes and exponents -------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "places"),
    [("jpy", 0), ("krw", 0), ("kwd", 3), ("bhd", 3), ("eur", 2), ("usd", 2), ("isk", 0)],
)
def test_exponent_table(code: str, places: int) -> None:
    assert exponent(code) == places
    assert exponent(code.upper()) == places


def test_stripe_tables_are_lowercase_known_currencies() -> None:
    assert len(ZERO_DECIMAL_CURRENCIES) == 16
    assert sorted(THREE_DECIMAL_CURRENCIES) == ["bhd", "jod", "kwd", "omr", "tnd"]
    for code in ZERO_DECIMAL_CURRENCIES | THREE_DECIMAL_CURRENCIES:
        assert normalize_currency(code) == code


@pytest.mark.parametrize(("raw", "expected"), [("EUR", "eur"), (" usd\n", "usd"), ("Jpy", "jpy")])
def test_normalize_currency(raw: str, expected: str) -> None:
    assert normalize_currency(raw) == expected


@pytest.mark.parametrize("raw", ["", "eu", "euro", "e1r", "€€€", "ÉUR", "zzz", "abc"])
def test_normalize_currency_rejects(raw: str) -> None:
    with pytest.raises(CurrencyError):
        normalize_currency(raw)


def test_currency_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        exponent("zzz")


# --- major <-> minor ----------------------------------------------------------------------


@given(currencies, st.integers())
def test_minor_major_round_trip(code: str, amount: int) -> None:
    major = to_major(amount, code)
    assert isinstance(major, Decimal)
    assert major.as_tuple().exponent == -exponent(code)
    assert to_minor(major, code) == amount
    # The string form (what an API or a CSV carries) round-trips too.
    assert to_minor(str(major), code) == amount


def test_round_trip_beyond_decimal_context_precision() -> None:
    amount = 10**40 + 1  # more digits than Decimal's default 28-digit context
    assert to_minor(to_major(amount, "eur"), "eur") == amount


@pytest.mark.parametrize(
    ("amount_minor", "code", "text"),
    [
        (1999, "eur", "19.99"),
        (1500, "jpy", "1500"),
        (1250, "kwd", "1.250"),
        (0, "usd", "0.00"),
        (-5, "eur", "-0.05"),
        (1500, "isk", "1500"),
    ],
)
def test_to_major(amount_minor: int, code: str, text: str) -> None:
    assert str(to_major(amount_minor, code)) == text


@pytest.mark.parametrize("bad", [True, 19.99, "1999", Decimal("1999")])
def test_to_major_rejects_non_int(bad: object) -> None:
    with pytest.raises(MoneyError):
        to_major(bad, "eur")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "code", "minor"),
    [
        ("19.99", "eur", 1999),
        ("19.990", "eur", 1999),  # a trailing zero is still exact
        (Decimal("19.99"), "EUR", 1999),
        (5, "eur", 500),
        ("1500", "jpy", 1500),
        ("1.25", "kwd", 1250),
        (" 7 ", "usd", 700),
        ("-0.01", "usd", -1),
    ],
)
def test_to_minor(amount: Decimal | int | str, code: str, minor: int) -> None:
    assert to_minor(amount, code) == minor


def test_to_minor_rejects_floats() -> None:
    with pytest.raises(MoneyError, match="use Decimal or str"):
        to_minor(19.99, "eur")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("19.999", "eur"),
        ("1500.5", "jpy"),
        (Decimal("0.001"), "usd"),
        ("1.2345", "kwd"),
        ("10.5", "isk"),
    ],
)
def test_to_minor_never_rounds(amount: str | Decimal, code: str) -> None:
    with pytest.raises(MoneyError):
        to_minor(amount, code)


@pytest.mark.parametrize(
    "amount", ["NaN", "Infinity", "-inf", Decimal("sNaN"), "abc", "", True, "1e999999999"]
)
def test_to_minor_rejects_non_amounts(amount: str | Decimal | bool) -> None:
    with pytest.raises(MoneyError):
        to_minor(amount, "eur")


# --- Stripe amounts -----------------------------------------------------------------------


def test_isk_is_sent_to_stripe_times_100() -> None:
    assert to_stripe_amount(1500, "isk") == 150_000
    assert from_stripe_amount(150_000, "isk") == 1500


@given(st.integers(min_value=0, max_value=10**12))
def test_isk_stripe_round_trip(amount: int) -> None:
    assert from_stripe_amount(to_stripe_amount(amount, "isk"), "isk") == amount


def test_isk_from_stripe_must_be_whole_kronur() -> None:
    with pytest.raises(MoneyError):
        from_stripe_amount(150_050, "isk")


@pytest.mark.parametrize("code", ["eur", "usd", "jpy", "krw"])
def test_other_currencies_go_to_stripe_unchanged(code: str) -> None:
    assert to_stripe_amount(1999, code) == 1999
    assert from_stripe_amount(1999, code) == 1999


@pytest.mark.parametrize("code", sorted(THREE_DECIMAL_CURRENCIES))
def test_three_decimal_last_digit_must_be_zero(code: str) -> None:
    assert to_stripe_amount(1250, code) == 1250
    assert from_stripe_amount(1250, code) == 1250
    with pytest.raises(MoneyError):
        to_stripe_amount(1255, code)


def test_stripe_rejects_negative_and_non_int() -> None:
    with pytest.raises(MoneyError):
        to_stripe_amount(-100, "eur")
    with pytest.raises(MoneyError):
        to_stripe_amount(True, "eur")


# --- display ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount_minor", "code", "locale", "expected"),
    [
        (1999, "eur", "en_US", "€19.99"),
        (1500, "jpy", "en_US", "¥1,500"),
        (199_900, "usd", "en_US", "$1,999.00"),
        (1999, "eur", "de_DE", "19,99\xa0€"),
        (-1999, "eur", "en_US", "-€19.99"),
    ],
)
def test_format_money(amount_minor: int, code: str, locale: str, expected: str) -> None:
    assert format_money(amount_minor, code, locale) == expected


def test_format_money_kwd_has_three_decimals() -> None:
    text = format_money(1250, "kwd")
    assert "KWD" in text
    assert text.endswith("1.250")


def test_format_money_isk_has_no_decimals() -> None:
    text = format_money(1500, "isk")
    assert text.endswith("1,500")
    assert "." not in text


@given(currencies, st.integers(min_value=-(10**12), max_value=10**12))
def test_format_money_shows_exactly_the_exponent_digits(code: str, amount: int) -> None:
    text = format_money(amount, code)
    places = exponent(code)
    # en_US puts the symbol first and uses "." only as the decimal separator.
    number = text[next(i for i, ch in enumerate(text) if ch.isdigit()) :]
    if places:
        _integer_part, fraction = number.rsplit(".", 1)
        assert fraction.isdigit()
        assert len(fraction) == places
    else:
        assert "." not in number


# --- Money --------------------------------------------------------------------------------


def test_money_normalizes_and_validates() -> None:
    money = Money(1999, "EUR")
    assert money.currency_code == "eur"
    assert money == Money(1999, "eur")
    assert money.major() == Decimal("19.99")
    assert money.format() == "€19.99"
    with pytest.raises(MoneyError):
        Money(True, "eur")
    with pytest.raises(MoneyError):
        Money(19.99, "eur")  # type: ignore[arg-type]
    with pytest.raises(CurrencyError):
        Money(1, "zzz")


def test_money_is_immutable() -> None:
    money = Money(1, "eur")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = 2  # type: ignore[misc]


def test_money_arithmetic_within_a_currency() -> None:
    assert Money(1999, "eur") + Money(1, "EUR") == Money(2000, "eur")
    assert Money(1999, "eur") - Money(2000, "eur") == Money(-1, "eur")


def test_money_arithmetic_across_currencies_raises() -> None:
    with pytest.raises(MoneyError):
        Money(1999, "eur") + Money(1999, "usd")
    with pytest.raises(MoneyError):
        Money(1999, "eur") - Money(1500, "jpy")


def test_money_does_not_add_plain_numbers() -> None:
    with pytest.raises(TypeError):
        Money(1999, "eur") + 1  # type: ignore[operator]
