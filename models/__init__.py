"""SQLAlchemy 2.0 typed tables, one module per domain. Importing the package registers them all."""

from models.api_key import ApiKey
from models.audit import AuditLogEntry
from models.base import Base
from models.cart import Cart, CartShippingMethod, LineItem, ShippingOption
from models.checkout import Checkout
from models.fulfillment import Fulfillment, FulfillmentItem, Return, ReturnItem
from models.inventory import (
    InventoryAdjustment,
    InventoryItem,
    InventoryLevel,
    Reservation,
    StockChangeReason,
)
from models.order import Order, OrderEvent, OrderItem, OrderTransaction, Payment, PaymentCollection
from models.outbox import OutboxMessage
from models.product import (
    Product,
    ProductImage,
    ProductOption,
    ProductOptionValue,
    ProductVariant,
    VariantPrice,
)
from models.refund import Dispute, Refund
from models.region import Country, Region, SalesChannel, SalesChannelStockLocation, StockLocation

__all__ = [
    "ApiKey",
    "AuditLogEntry",
    "Base",
    "Cart",
    "CartShippingMethod",
    "Checkout",
    "Country",
    "Dispute",
    "Fulfillment",
    "FulfillmentItem",
    "InventoryAdjustment",
    "InventoryItem",
    "InventoryLevel",
    "LineItem",
    "Order",
    "OrderEvent",
    "OrderItem",
    "OrderTransaction",
    "OutboxMessage",
    "Payment",
    "PaymentCollection",
    "Product",
    "ProductImage",
    "ProductOption",
    "ProductOptionValue",
    "ProductVariant",
    "Refund",
    "Region",
    "Reservation",
    "Return",
    "ReturnItem",
    "SalesChannel",
    "SalesChannelStockLocation",
    "ShippingOption",
    "StockChangeReason",
    "StockLocation",
    "VariantPrice",
]
