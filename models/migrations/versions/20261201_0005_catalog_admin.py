"""catalog admin

Named admin keys (api_keys), the audit log of catalog and setup changes (audit_log), archived
products, soft-deleted variants whose SKU is freed (SKUs unique among live variants), the media
key of product images, and one shipping option per name in a region. Independent of the order
tables.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 08:29:43.631586
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('viewer', 'support', 'admin')", name=op.f("ck_api_keys_role_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_created_at"), "audit_log", ["created_at"], unique=False)
    op.create_index(op.f("ix_audit_log_entity_id"), "audit_log", ["entity_id"], unique=False)

    op.drop_constraint(op.f("ck_products_status_known"), "products", type_="check")
    op.create_check_constraint(
        op.f("ck_products_status_known"), "products", "status IN ('draft', 'published', 'archived')"
    )

    op.add_column("product_images", sa.Column("key", sa.String(length=512), nullable=True))
    op.add_column("product_variants", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint(op.f("uq_product_variants_sku"), "product_variants", type_="unique")
    op.create_index(
        "uq_product_variants_live_sku",
        "product_variants",
        ["sku"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_unique_constraint(
        op.f("uq_shipping_options_region_id_name"), "shipping_options", ["region_id", "name"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("uq_shipping_options_region_id_name"), "shipping_options", type_="unique")
    op.drop_index(
        "uq_product_variants_live_sku",
        table_name="product_variants",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    # Fails while a deleted variant's SKU is in use again: that history cannot be made unique.
    op.create_unique_constraint(op.f("uq_product_variants_sku"), "product_variants", ["sku"])
    op.drop_column("product_variants", "deleted_at")
    op.drop_column("product_images", "key")
    # Archived products become drafts: neither is in the store.
    op.execute("UPDATE products SET status = 'draft' WHERE status = 'archived'")
    op.drop_constraint(op.f("ck_products_status_known"), "products", type_="check")
    op.create_check_constraint(
        op.f("ck_products_status_known"), "products", "status IN ('draft', 'published')"
    )
    op.drop_index(op.f("ix_audit_log_entity_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_created_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("api_keys")
