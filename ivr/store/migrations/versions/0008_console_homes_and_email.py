"""The console, part two: each home's reference for console addresses, CSV uploads waiting to be applied,
and the outbox of emails to the care association.

Revision ID: 0008
Revises: 0007

A home's `ref` is a random token, not its ODS code: console addresses name homes by it, and URLs end up
in browser history and proxy logs. The emails have an outbox of their own rather than rows in the texts'
outbox, whose columns, caps, opt-outs and counts are all about texts.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("care_homes") as batch:
        batch.add_column(sa.Column("ref", sa.String(16)))
    connection = op.get_bind()
    homes = sa.table("care_homes", sa.column("ods", sa.String), sa.column("ref", sa.String))
    for (ods,) in connection.execute(sa.select(homes.c.ods)).all():
        connection.execute(sa.update(homes).where(homes.c.ods == ods).values(ref=secrets.token_urlsafe(9)))
    with op.batch_alter_table("care_homes") as batch:
        batch.alter_column("ref", existing_type=sa.String(16), nullable=False)
        batch.create_index("ix_care_homes_ref", ["ref"], unique=True)
    op.create_table(
        "home_uploads",
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),  # a digest of the dry run's changes
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "email_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(160), nullable=False, unique=True),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("to_address", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # pending -> sending -> sent | failed
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_email_outbox_claimable", "email_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_email_outbox_claimable", "email_outbox")
    op.drop_table("email_outbox")
    op.drop_table("home_uploads")
    with op.batch_alter_table("care_homes") as batch:
        batch.drop_index("ix_care_homes_ref")
        batch.drop_column("ref")
