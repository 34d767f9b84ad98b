"""Request models of the orders API (pydantic, validated by the Powertools event handler)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from orders_api.ids import CUSTOMER_ID

# Active ISO 4217 codes (2026); a request in anything else is refused.
ISO_4217 = frozenset("""
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP
CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG
HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
""".split())

MAX_ITEMS = 100
Sku = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000)]
    unitPrice: Annotated[Decimal, Field(ge=0, le=Decimal("1000000"), max_digits=12, decimal_places=4,  # noqa: N815
                                        allow_inf_nan=False)]


class CreateOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customerId: Annotated[StrictStr, Field(pattern=CUSTOMER_ID.pattern)]  # noqa: N815
    items: Annotated[list[LineItem], Field(min_length=1, max_length=MAX_ITEMS)]
    currency: StrictStr

    @field_validator("currency")
    @classmethod
    def known_currency(cls, value: str) -> str:
        if value not in ISO_4217:
            raise ValueError("must be an active ISO 4217 currency code, e.g. EUR or USD")
        return value

    def total(self) -> Decimal:
        return sum((item.unitPrice * item.quantity for item in self.items), Decimal(0))
