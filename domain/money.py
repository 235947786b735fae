"""Money as an integer of the currency's minor unit plus a lowercase ISO 4217 code.

Pure module (stdlib + Babel, no I/O, nothing done at import time) so the Temporal
workflow sandbox can load it. Conversions to and from major units, Stripe amounts and
display strings happen only at the edges, through the functions here. Never a float.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import NumberPattern, format_currency, list_currencies

__all__ = [
    "THREE_DECIMAL_CURRENCIES",
    "ZERO_DECIMAL_CURRENCIES",
    "CurrencyError",
    "Money",
    "MoneyError",
    "exponent",
    "format_money",
    "from_stripe_amount",
    "normalize_currency",
    "to_major",
    "to_minor",
    "to_stripe_amount",
]

# Stripe's table (https://docs.stripe.com/currencies), not CLDR's: what Stripe calls the
# minor unit is what we store, so amounts never need rescaling at the payment edge.
ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset(
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
        "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    }
)  # fmt: skip
THREE_DECIMAL_CURRENCIES: frozenset[str] = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

# Stripe treats ISK as zero-decimal for charges but wants the amount sent x100 (as if it
# had two decimals). We keep it in whole krónur and scale only in the Stripe functions.
_ISK = "isk"
_ISK_STRIPE_FACTOR = 100

# Same bound Python puts on int <-> str conversion: a string like "1e999999999" from a
# request must not make us build an integer with a billion digits.
_MAX_DIGITS = 4300


class CurrencyError(ValueError):
    """Unknown or malformed currency code."""


class MoneyError(ValueError):
    """An amount that cannot be represented or converted exactly."""


@functools.cache
def known_currencies() -> frozenset[str]:
    # Cached lazily (first call, not import) because Babel reads its data file here.
    return frozenset(code.lower() for code in list_currencies())


def normalize_currency(code: str) -> str:
    """Return the lowercase ISO code, or raise CurrencyError if it is not one Babel knows."""
    if not isinstance(code, str):
        raise CurrencyError(f"currency code must be a str, not {type(code).__name__}")
    normalized = code.strip().lower()
    # isascii() first: str.isalpha() alone accepts letters such as "é" or "ß".
    if len(normalized) != 3 or not (normalized.isascii() and normalized.isalpha()):
        raise CurrencyError(f"currency code must be 3 ASCII letters: {code!r}")
    if normalized not in known_currencies():
        raise CurrencyError(f"unknown currency code: {code!r}")
    return normalized


def exponent(currency_code: str) -> int:
    """Number of decimal places of the currency's minor unit (Stripe's table)."""
    code = normalize_currency(currency_code)
    if code in ZERO_DECIMAL_CURRENCIES or code == _ISK:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def _check_minor(amount_minor: int) -> int:
    # bool is an int subclass; True as "1 cent" is always a bug.
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise MoneyError(f"minor-unit amount must be an int, not {type(amount_minor).__name__}")
    return amount_minor


def to_minor(amount: Decimal | int | str, currency_code: str) -> int:
    """Convert a major-unit amount ("19.99" eur) to minor units (1999), exactly.

    Raises MoneyError rather than rounding if the amount has more decimals than the
    currency has, and for floats, bools, NaN, infinities and unparsable strings.
    """
    places = exponent(currency_code)
    if isinstance(amount, float):
        # A float has already lost the exact value (0.1 + 0.2); refuse it outright.
        raise MoneyError("float amounts are not accepted: use Decimal or str")
    if isinstance(amount, bool):
        raise MoneyError("bool is not an amount")
    if isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, str):
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise MoneyError(f"not a decimal number: {amount!r}") from None
    else:
        raise MoneyError(f"amount must be Decimal, int or str, not {type(amount).__name__}")
    if not value.is_finite():
        raise MoneyError(f"amount must be finite: {amount!r}")

    # Integer arithmetic on the digit tuple: Decimal operations round to the context
    # precision (28 digits by default), which would break exactness for large values.
    sign, digits, exp = value.as_tuple()
    assert isinstance(exp, int)  # finite, checked above
    shift = exp + places
    if max(len(digits), len(digits) + shift) > _MAX_DIGITS:
        raise MoneyError("amount has too many digits")
    coefficient = int("".join(map(str, digits)))
    scale: int = 10 ** abs(shift)  # annotated: int ** int is Any to mypy
    if shift >= 0:
        minor = coefficient * scale
    else:
        minor, remainder = divmod(coefficient, scale)
        if remainder:
            raise MoneyError(
                f"{amount!r} has more than {places} decimal places for {normalize_currency(currency_code)}"
            )
    return -minor if sign else minor


def to_major(amount_minor: int, currency_code: str) -> Decimal:
    """Convert minor units to a Decimal with exactly the currency's decimal places."""
    places = exponent(currency_code)
    sign, digits, _ = Decimal(_check_minor(amount_minor)).as_tuple()
    # Built from the tuple rather than with scaleb/quantize, which round to the context
    # precision; this is exact for any int.
    return Decimal((sign, digits, -places))


def to_stripe_amount(amount_minor: int, currency_code: str) -> int:
    """The integer Stripe's API expects for this amount.

    Same number, except ISK (sent times 100). Three-decimal amounts must end in 0, and
    negative amounts are refused, because Stripe rejects both.
    """
    code = normalize_currency(currency_code)
    _check_minor(amount_minor)
    if amount_minor < 0:
        raise MoneyError("Stripe amounts cannot be negative")
    if code in THREE_DECIMAL_CURRENCIES and amount_minor % 10:
        raise MoneyError(f"{code} amounts sent to Stripe must end in 0 (got {amount_minor})")
    if code == _ISK:
        return amount_minor * _ISK_STRIPE_FACTOR
    return amount_minor


def from_stripe_amount(stripe_amount: int, currency_code: str) -> int:
    """Inverse of to_stripe_amount: Stripe's integer back to our minor units."""
    code = normalize_currency(currency_code)
    _check_minor(stripe_amount)
    if code == _ISK:
        whole, remainder = divmod(stripe_amount, _ISK_STRIPE_FACTOR)
        if remainder:
            raise MoneyError(f"Stripe ISK amount {stripe_amount} is not a whole number of krónur")
        return whole
    return stripe_amount


def format_money(amount_minor: int, currency_code: str, locale: str = "en_US") -> str:
    """Human-readable amount ("€19.99", "¥1,500") with exactly the currency's decimals."""
    places = exponent(currency_code)
    major = to_major(amount_minor, currency_code)
    # Babel would otherwise use CLDR's digits (ISK, or ones that differ from Stripe's) or
    # the pattern's fixed two; we force our exponent into the locale's own pattern.
    base = Locale.parse(locale).currency_formats["standard"]
    pattern = NumberPattern(
        base.pattern,
        base.prefix,
        base.suffix,
        base.grouping,
        base.int_prec,
        (places, places),
        base.exp_prec,
        base.exp_plus,
        base.number_pattern,
    )
    formatted: str = format_currency(  # Babel's return type is not annotated
        major,
        currency_code.strip().upper(),  # Babel's symbol tables are keyed by upper case
        format=pattern,
        locale=locale,
        currency_digits=False,
        decimal_quantization=True,
    )
    return formatted


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency; arithmetic only within a currency."""

    amount: int
    currency_code: str

    def __post_init__(self) -> None:
        _check_minor(self.amount)
        # frozen: the normalized code has to be written past the dataclass __setattr__.
        object.__setattr__(self, "currency_code", normalize_currency(self.currency_code))

    def _same_currency(self, other: Money, op: str) -> None:
        if other.currency_code != self.currency_code:
            raise MoneyError(f"cannot {op} {other.currency_code} and {self.currency_code}")

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):  # callers not checked by mypy: let Python raise TypeError
            return NotImplemented
        self._same_currency(other, "add")
        return Money(self.amount + other.amount, self.currency_code)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money(self.amount - other.amount, self.currency_code)

    def major(self) -> Decimal:
        """The amount in major units, e.g. Decimal("19.99")."""
        return to_major(self.amount, self.currency_code)

    def format(self, locale: str = "en_US") -> str:
        """The amount for people, via format_money."""
        return format_money(self.amount, self.currency_code, locale)
