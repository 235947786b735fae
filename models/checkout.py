"""Read cache of checkout workflow state, so admin can find a checkout by cart or PaymentIntent.

The workflow is the source of truth; activities write here as it moves.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class Checkout(Timestamped, Base):
    __tablename__ = "checkouts"

    payment_intent_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency_code: Mapped[str] = mapped_column(String(3))
    order_id: Mapped[str | None] = mapped_column(String(64))
    failure_code: Mapped[str | None] = mapped_column(String(60))
