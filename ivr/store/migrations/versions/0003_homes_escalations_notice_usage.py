"""The care-home directory, escalations of helpdesk tickets, the operator's notice, and anonymous counts.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "care_homes",
        sa.Column("ods", sa.String(5), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("keypad", sa.String(4), nullable=False),
        sa.Column("mobile", sa.String(16)),
        sa.Column("mailbox", sa.String(120)),
        sa.Column("postcode", sa.String(10)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_care_homes_keypad", "care_homes", ["keypad"])
    op.create_table(
        "home_landlines",
        sa.Column("number", sa.String(16), primary_key=True),
        sa.Column("ods", sa.String(5), sa.ForeignKey("care_homes.ods", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_home_landlines_ods", "home_landlines", ["ods"])
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(160), nullable=False, unique=True),
        sa.Column("call_sid", sa.String(64)),
        sa.Column("ods", sa.String(5)),
        sa.Column("home_name", sa.String(200)),
        sa.Column("ticket", sa.String(15), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_escalations_status", "escalations", ["status", "created_at"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("until", sa.Date),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "usage_counts",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("metric", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("usage_counts", "notices", "escalations", "home_landlines", "care_homes"):
        op.drop_table(table)
