from __future__ import annotations

from pydantic import BaseModel

from models import ShippingOption


class ShippingOptionOut(BaseModel):
    id: str
    name: str
    amount: int
    currency_code: str

    @classmethod
    def from_option(cls, option: ShippingOption, currency_code: str) -> ShippingOptionOut:
        return cls(id=option.id, name=option.name, amount=option.amount, currency_code=currency_code)


class ShippingOptionsResponse(BaseModel):
    shipping_options: list[ShippingOptionOut]
