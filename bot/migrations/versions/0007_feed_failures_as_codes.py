"""feed failures stored as codes, not English sentences

``feed.last_error`` held a sentence such as "The feed server answered 500 Internal Server Error: …" and
``feed.paused_reason`` "Paused after 5 failed fetches in a row. …": a server reading Chinese got
English. They now hold the failure's code (``http_500``) and, for a pause, the code and the count as
JSON (``{"code": "http_500", "failures": 5}``); ``bot/render/feeds.py`` says them in the reader's
language. Existing rows are converted: the code is the one ``last_status`` recorded with the sentence,
the count is read from the sentence (else ``failures``).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_CODE = re.compile(r"^[a-z0-9_]{1,32}$")
_PAUSED = re.compile(r"^Paused after (\d+) failed fetches in a row\.")

feed = sa.table(
    "feed",
    sa.column("id", sa.Integer),
    sa.column("last_status", sa.String),
    sa.column("last_error", sa.String),
    sa.column("paused_reason", sa.String),
    sa.column("failures", sa.Integer),
)


def _failure(last_status: str | None) -> str:
    """The failure code recorded with the sentence; "other" when there is none to be had."""
    if last_status and last_status not in ("ok", "not_modified") and _CODE.match(last_status):
        return last_status
    return "other"


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            feed.c.id, feed.c.last_status, feed.c.last_error, feed.c.paused_reason, feed.c.failures
        ).where(sa.or_(feed.c.last_error.is_not(None), feed.c.paused_reason.is_not(None)))
    ).all()
    for row in rows:
        values: dict[str, object] = {}
        if row.last_error is not None and not _CODE.match(row.last_error):
            values["last_error"] = _failure(row.last_status)
        if row.paused_reason is not None and not row.paused_reason.startswith("{"):
            found = _PAUSED.match(row.paused_reason)
            failures = int(found.group(1)) if found else row.failures
            values["paused_reason"] = json.dumps({"code": _failure(row.last_status), "failures": failures})
        if values:
            conn.execute(sa.update(feed).where(feed.c.id == row.id).values(**values))


def downgrade() -> None:
    """Codes stay: no earlier version shows these two columns to anyone (they were written, not read)."""
