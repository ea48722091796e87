"""Escalations keep a number to ring the caller back on: a call from a number the directory does not know
brought no home and no way back to the caller.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("callback", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("callback")
