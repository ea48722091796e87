"""The sending pace all workers share, so several workers together keep to the configured rate.

Revision ID: 0004
Revises: 0003
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pace = op.create_table(
        "sending_pace",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("next_slot", sa.DateTime(timezone=True), nullable=False),
    )
    # One row, there from the start: workers only ever update it, so none races to create it.
    op.bulk_insert(pace, [{"name": "sms", "next_slot": datetime(2000, 1, 1, tzinfo=UTC)}])


def downgrade() -> None:
    op.drop_table("sending_pace")
