"""The outbox's sending state (claims, attempts, delivery), and numbers that opted out.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("claimed_by", sa.String(64)))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("provider_sid", sa.String(64)))
        batch.add_column(sa.Column("error", sa.Text))
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("delivery_status", sa.String(16)))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("caller_hash", sa.String(64)))
        batch.add_column(sa.Column("capped", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.create_index("ix_outbox_claimable", ["status", "next_attempt_at"])
        batch.create_index("ix_outbox_provider_sid", ["provider_sid"])
        batch.create_index("ix_outbox_to_created", ["to_number", "created_at"])
    op.create_table(
        "opt_outs",
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("opt_outs")
    with op.batch_alter_table("outbox") as batch:
        for index in ("ix_outbox_claimable", "ix_outbox_provider_sid", "ix_outbox_to_created"):
            batch.drop_index(index)
        for column in ("attempts", "next_attempt_at", "claimed_by", "claimed_until", "provider_sid", "error",
                       "sent_at", "delivery_status", "updated_at", "caller_hash", "capped"):  # fmt: skip
            batch.drop_column(column)
