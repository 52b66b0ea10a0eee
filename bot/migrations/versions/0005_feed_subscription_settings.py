"""per-subscription pause, filters and template; content hashes of seen feed entries

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("include_terms", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("exclude_terms", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("template", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("feed_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index("ix_feed_entry_content", ["feed_id", "content_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feed_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_entry_content")
        batch_op.drop_column("content_hash")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("template")
        batch_op.drop_column("exclude_terms")
        batch_op.drop_column("include_terms")
        batch_op.drop_column("paused")
