"""Money as people read it: an amount with its currency's symbol, and prices at their own precision.

Prices are stored with up to 10 decimals (a unit price derived from a line total) and amounts with
4; `money_format` shows an amount to the cent (or whole units) with the currency's symbol
(settings.SHOP_CURRENCY unless an order's own currency is given), `decimal_text` shows a stored
price without padding zeros but with at least two decimals (0.002859375, 1.85, 3.00).
"""
from __future__ import annotations

from decimal import Decimal

SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥", "CNY": "¥", "BRL": "R$", "INR": "₹", "CHF": "CHF ",
           "AUD": "A$", "CAD": "C$", "SEK": "kr ", "NOK": "kr ", "DKK": "kr ", "PLN": "zł ", "KRW": "₩"}


def currency_symbol(currency: str) -> str:
    """The symbol of an ISO 4217 code ('USD' -> '$'); an unknown code is written as itself ('XYZ ')."""
    code = (currency or "").upper()
    return SYMBOLS.get(code, f"{code} " if code else "")


def money_format(amount, currency: str, *, places: int = 2) -> str:
    """An amount with its currency: money_format(1234.5, 'USD') -> '$1,234.50'; places=0 -> '$1,235'."""
    value = float(amount or 0)
    sign = "-" if value < 0 else ""
    return f"{sign}{currency_symbol(currency)}{abs(value):,.{places}f}"


def price_format(price: Decimal | None, currency: str) -> str:
    """A unit price at its stored precision with its currency: '$0.002859375', '£2.55'."""
    text = decimal_text(price)
    if text is None:
        return "-"
    return f"-{currency_symbol(currency)}{text[1:]}" if text.startswith("-") else f"{currency_symbol(currency)}{text}"


def decimal_text(value: Decimal | None, *, min_places: int = 2) -> str | None:
    """A stored decimal without its padding zeros, keeping at least min_places decimals."""
    if value is None:
        return None
    text = f"{Decimal(value).normalize():f}"
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(min_places, '0')}" if min_places or fraction else whole
