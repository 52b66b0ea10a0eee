"""The audit log (the ``audit_entry`` table's one owner): who changed what in a server, and when.

A service writes the line in the same session as the change it describes, so both are committed
together or neither is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.models import AuditEntry, utcnow

MAX_TARGET = 500
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class GuildChange(Protocol[R_co]):
    """A change to one guild's rows with its other arguments bound (``functools.partial``)."""

    def __call__(self, *, session: Session, guild_id: int) -> R_co: ...


@dataclass(frozen=True)
class AuditLine:
    user_id: int | None
    action: str
    target: str
    at: datetime


def record(
    *,
    session: Session,
    guild_id: int,
    user_id: int | None,
    action: str,
    target: str,
    at: datetime | None = None,
) -> None:
    """One audit line: who changed what, when."""
    session.add(
        AuditEntry(
            guild_id=guild_id, user_id=user_id, action=action, target=target[:MAX_TARGET], at=at or utcnow()
        )
    )


def audited(
    change: GuildChange[R],
    /,
    *,
    session: Session,
    guild_id: int,
    user_id: int | None,
    describe: Callable[[R], tuple[str, str] | None],
) -> R:
    """``change(session=, guild_id=)`` and, when ``describe`` names what it changed as (action,
    target), its audit line. Run through ``Database.run``: one transaction for both."""
    result = change(session=session, guild_id=guild_id)
    line = describe(result)
    if line is not None:
        record(session=session, guild_id=guild_id, user_id=user_id, action=line[0], target=line[1])
    return result


def audit_log(*, session: Session, guild_id: int, offset: int, limit: int) -> tuple[list[AuditLine], int]:
    """One page of a server's audit lines, newest first; (page, total)."""
    total = session.exec(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.guild_id == guild_id)
    ).one()
    rows = session.exec(
        select(AuditEntry)
        .where(AuditEntry.guild_id == guild_id)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [AuditLine(r.user_id, r.action, r.target, r.at) for r in rows], int(total)
