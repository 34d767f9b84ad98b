"""How amounts travel: as decimal strings, never as binary floats.

Stored amounts are DynamoDB numbers (exact decimals). In events and queue messages an amount is a
JSON *string* holding its exact decimal text ("950492595953.4472"): a JSON number would be read
back as a float by most parsers (and by EventBridge), and about 8% of four-decimal amounts
between 1e11 and 1e12 do not survive that. Where EventBridge must compare an amount (content
filters only compare JSON numbers), the event also carries the amount rounded up to a whole
unit, which is exact for "greater than <integer>" rules and never used as money.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

__all__ = ["amount_text", "parse_amount", "rounded_up"]


def amount_text(value: Decimal | int | str) -> str:
    """The exact decimal text of an amount, without an exponent (``Decimal("1E+2")`` -> ``"100"``)."""
    amount = Decimal(value) if not isinstance(value, Decimal) else value
    if not amount.is_finite():
        raise ValueError(f"amount {value!r} is not finite")
    return format(amount, "f")


def parse_amount(text: str) -> Decimal:
    """An amount from its decimal text; anything else (a float, NaN, an exponent) is refused."""
    if not isinstance(text, str):
        raise ValueError("an amount must be a decimal string")
    try:
        amount = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(f"{text!r} is not a decimal amount") from error
    if not amount.is_finite() or "e" in text.lower():
        raise ValueError(f"{text!r} is not a plain decimal amount")
    return amount


def rounded_up(value: Decimal) -> int:
    """The amount rounded up to a whole unit: ``total > T`` exactly when this is ``> T`` (T whole)."""
    return math.ceil(value)
