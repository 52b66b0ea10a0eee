"""/admin's workflows: a server's own photos, facts, crew and articles, each change with its audit line.

``AdminService`` runs each command's whole workflow: the change and its audit line in one
transaction, then the question index and the content counts. The rows themselves belong to their
owners: facts, crew and articles to bot/knowledge/store.py, photos to bot/photos/catalog.py, audit
lines to bot/audit.py. Everything here acts on one guild's own rows only: global content belongs to
the operator (CLI).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal, TypeVar

from sqlmodel import Session, col, select

from bot import audit, intake
from bot.audit import AuditLine
from bot.content import CountsCache
from bot.db import Database
from bot.errors import UserFacingError
from bot.knowledge import ArticleError, store
from bot.knowledge.service import Knowledge, admin_crew_entry
from bot.media import ImageStore
from bot.models import Article, CrewMember, Fact, Photo
from bot.net import SafeHttp
from bot.photos import catalog

Kind = Literal["article", "photo", "fact", "crew"]
KINDS: tuple[Kind, ...] = ("article", "photo", "fact", "crew")
Progress = Callable[[Literal["fetch", "parse"]], Awaitable[None]]
"""Told each slow step of an import as it starts (the cog shows it to the admin)."""
R = TypeVar("R")


@dataclass(frozen=True)
class ContentItem:
    kind: Kind
    id: int
    label: str
    created_at: datetime | None
    created_by: int | None


# -------------------------------------------------------------------------------------------- listing
def list_content(
    *, session: Session, guild_id: int, kind: Kind | None, offset: int, limit: int
) -> tuple[list[ContentItem], int]:
    """The server's own content, newest first; (page, total)."""
    items: list[ContentItem] = []
    kinds = [kind] if kind else list(KINDS)
    for k in kinds:
        if k == "article":
            rows = session.exec(
                select(Article.id, Article.title, Article.imported_at, Article.created_by).where(
                    Article.guild_id == guild_id
                )
            ).all()
        elif k == "photo":
            rows = session.exec(
                select(Photo.id, Photo.caption, Photo.created_at, Photo.created_by).where(
                    Photo.guild_id == guild_id
                )
            ).all()
        elif k == "fact":
            rows = session.exec(
                select(Fact.id, Fact.text, Fact.created_at, Fact.created_by).where(
                    col(Fact.guild_id) == guild_id, col(Fact.article_id).is_(None)
                )
            ).all()
        else:
            rows = session.exec(
                select(CrewMember.id, CrewMember.name, CrewMember.created_at, CrewMember.created_by).where(
                    col(CrewMember.guild_id) == guild_id, col(CrewMember.article_id).is_(None)
                )
            ).all()
        items.extend(ContentItem(k, r[0], r[1], r[2], r[3]) for r in rows if r[0] is not None)
    items.sort(key=lambda i: (i.created_at.timestamp() if i.created_at else 0.0, i.id), reverse=True)
    return items[offset : offset + limit], len(items)


# ------------------------------------------------------------------------------------- the service
class AdminService:
    """What each /admin command does, start to finish; built once by the bot (``bot.admin``).

    A change is one transaction with its audit line (``audit.audited`` inside one ``Database.run``); after it commits, the question index learns
    it and the content counts are read again. Refusals are :class:`UserFacingError` with a key.
    ``net`` gives the bot's current HTTP client (tests swap it for a stricter one).
    """

    def __init__(
        self,
        *,
        db: Database,
        knowledge: Knowledge,
        counts: CountsCache,
        net: Callable[[], SafeHttp],
        images: ImageStore,
    ) -> None:
        self.db = db
        self.knowledge = knowledge
        self.counts = counts
        self.net = net
        self.images = images

    async def _audited(
        self,
        change: audit.GuildChange[R],
        *,
        guild_id: int,
        user_id: int,
        describe: Callable[[R], tuple[str, str] | None],
    ) -> R:
        """``change`` and its audit line, in one transaction (``audit.audited`` in one ``Database.run``)."""
        return await self.db.run(
            partial(audit.audited, change, guild_id=guild_id, user_id=user_id, describe=describe)
        )

    async def add_photo(
        self,
        *,
        guild_id: int,
        user_id: int,
        caption: str,
        credit: str,
        photographer: str | None,
        data: bytes | None,
        url: str | None,
    ) -> tuple[Photo, bool]:
        """Fetch (when no attachment's bytes are given), check and store the picture, then add it
        unless the catalog already holds the same picture: (photo, created)."""
        if data is None:
            data = await intake.fetch_url(self.net(), url or "", intake.MAX_IMAGE_BYTES)
        processed, stored = await intake.store_picture(data, self.images)
        result = await self._audited(
            partial(
                catalog.add_photo,
                created_by=user_id,
                caption=caption,
                credit=credit,
                photographer=photographer,
                url=url,
                processed=processed,
                stored_path=stored,
            ),
            guild_id=guild_id,
            user_id=user_id,
            describe=lambda r: ("photo add", f"photo {r[0].id}: {r[0].caption}") if r[1] else None,
        )
        self.counts.invalidate(guild_id)
        return result

    async def remove_photo(self, photo_id: int, *, guild_id: int, user_id: int) -> catalog.PhotoView | None:
        removed = await self._audited(
            partial(catalog.remove_photo, photo_id),
            guild_id=guild_id,
            user_id=user_id,
            describe=lambda r: None if r is None else ("photo remove", f"photo {photo_id}: {r.caption}"),
        )
        if removed is not None:
            self.counts.invalidate(guild_id)
        return removed

    async def add_fact(
        self, *, guild_id: int, user_id: int, text: str, keywords: str | None, source: str | None
    ) -> Fact:
        fact, created = await self._audited(
            partial(store.add_server_fact, created_by=user_id, text=text, keywords=keywords, source=source),
            guild_id=guild_id,
            user_id=user_id,
            describe=lambda r: ("fact add", f"fact {r[0].id}: {r[0].text}") if r[1] else None,
        )
        if not created:
            raise UserFacingError(
                "This server already has that fact.", key="admin.fact_duplicate", id=fact.id
            )
        assert fact.id is not None
        self.knowledge.add_admin_fact(fact.id, guild_id, fact.text, fact.source, fact.created_at)
        self.counts.invalidate(guild_id)
        return fact

    async def remove_fact(self, fact_id: int, *, guild_id: int, user_id: int) -> Fact | None:
        removed = await self._audited(
            partial(store.remove_server_fact, fact_id),
            guild_id=guild_id,
            user_id=user_id,
            describe=lambda r: None if r is None else ("fact remove", f"fact {fact_id}: {r.text}"),
        )
        if removed is not None:
            self.knowledge.remove_admin_fact(fact_id)
            self.counts.invalidate(guild_id)
        return removed

    async def add_crew(
        self, *, guild_id: int, user_id: int, name: str, agency: str | None, role: str | None
    ) -> CrewMember:
        member, created = await self._audited(
            partial(store.add_server_crew, created_by=user_id, name=name, agency=agency, role=role),
            guild_id=guild_id,
            user_id=user_id,
            describe=lambda r: ("crew add", f"crew {r[0].id}: {r[0].name}") if r[1] else None,
        )
        if not created:
            raise UserFacingError(
                f"{member.name} is already on this server's roster.",
                key="admin.crew_duplicate",
                name=member.name,
                id=member.id,
            )
        self.knowledge.add_admin_crew(
            guild_id, admin_crew_entry(member.name, member.agency, member.role, member.created_at)
        )
        self.counts.invalidate(guild_id)
        return member

    async def remove_crew(self, crew_id: int, *, guild_id: int, user_id: int) -> CrewMember | None:
        removed = await self._audited(
            partial(store.remove_server_crew, crew_id),
            guild_id=guild_id,
            user_id=user_id,
            describe=lambda r: None if r is None else ("crew remove", f"crew {crew_id}: {r.name}"),
        )
        if removed is not None:
            self.knowledge.remove_admin_crew(guild_id, removed.name)
            self.counts.invalidate(guild_id)
        return removed

    async def import_article(
        self,
        *,
        guild_id: int,
        user_id: int,
        filename: str,
        data: bytes | None,
        url: str | None,
        progress: Progress,
    ) -> store.ImportResult:
        """Fetch (when no attachment's bytes are given) and parse the article, store it with its
        audit line in one transaction, then index it."""
        if data is None:
            await progress("fetch")
            data = await intake.fetch_url(self.net(), url or "", intake.MAX_ARTICLE_BYTES)
        await progress("parse")
        try:
            parsed = await self.knowledge.parse(data, filename=filename)
        except ArticleError as exc:
            raise UserFacingError(str(exc), key=exc.code, **exc.params) from None
        result = await self._audited(
            partial(store.import_parsed, parsed, filename=filename, created_by=user_id),
            guild_id=guild_id,
            user_id=user_id,
            describe=lambda r: (f"article import ({r.status})", f"article {r.article_id}: {r.title}"),
        )
        await self.knowledge.index_imported(result, parsed, guild_id=guild_id)
        self.counts.invalidate(guild_id)
        return result

    async def remove_article(self, article_id: int, *, guild_id: int, user_id: int) -> Article | None:
        removed = await self._audited(
            partial(store.remove_article, article_id),
            guild_id=guild_id,
            user_id=user_id,
            describe=lambda r: None if r is None else ("article remove", f"article {article_id}: {r.title}"),
        )
        if removed is not None:
            self.knowledge.forget_article(article_id)
            self.counts.invalidate(guild_id)
        return removed

    async def content(
        self, *, guild_id: int, kind: Kind | None, offset: int, limit: int
    ) -> tuple[list[ContentItem], int]:
        """One page of the server's own content, newest first; (page, total)."""
        return await self.db.run(
            partial(list_content, guild_id=guild_id, kind=kind, offset=offset, limit=limit)
        )

    async def audit_log(self, *, guild_id: int, offset: int, limit: int) -> tuple[list[AuditLine], int]:
        """One page of the server's audit log, newest first; (page, total)."""
        return await self.db.run(partial(audit.audit_log, guild_id=guild_id, offset=offset, limit=limit))
