"""Read cache of checkout workflow state, so admin can find a checkout by cart or PaymentIntent.

The workflow is the source of truth; activities write here as it moves. The one thing decided
here is `reservation_released_at`: the row lock that orders a release and a late reservation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String
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
    # Set when the checkout gave its stock back (expiry, cancel, compensation, the order's sale):
    # from then on its reservation is never made again (services.inventory).
    reservation_released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
