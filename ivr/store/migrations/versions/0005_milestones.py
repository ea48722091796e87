"""Milestones replace the stored call state: the state travels with the call in a sealed token.

Revision ID: 0005
Revises: 0004

A call row keeps only what outlives the call (when it started and ended, how long, how it
ended); what is worth counting is a milestone with no personal data in it. The downgrade
puts the state columns back, empty: a call under way during it starts again at the main menu.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # A keyed hash of the CallSid: enough to count a call once, not to find it in Twilio's logs.
        sa.Column("call_key", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(32), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("call_key", "kind", "detail", name="uq_milestones_once"),
    )
    op.create_index("ix_milestones_at", "milestones", ["at"])
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("state")
        batch.drop_column("answered_turn")
        batch.drop_column("response")


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("state", sa.Text, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("answered_turn", sa.Integer, nullable=False, server_default="-1"))
        batch.add_column(sa.Column("response", sa.Text, nullable=False, server_default=""))
    op.drop_index("ix_milestones_at", table_name="milestones")
    op.drop_table("milestones")
