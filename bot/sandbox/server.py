"""A local Discord-compatible server (REST v10 + gateway v10) that the unmodified discord.py talks to."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from aiohttp import BodyPartReader, web

from bot.sandbox import interactions as ix
from bot.sandbox.gateway import OP_INVALID_SESSION, GatewayConnection, GatewaySession
from bot.sandbox.limits import DEFAULT_ATTACHMENT_LIMIT, validate_message
from bot.sandbox.model import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    MEMBER_DEFAULT,
    Channel,
    Guild,
    Member,
    Role,
    SnowflakeFactory,
    StoredFile,
    User,
    shard_for,
)
from bot.sandbox.ratelimit import RateLimitConfig, RateLimiter

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
JSON_TYPE = "application/json"
TOKEN_LIFETIME = 15 * 60
NONCE_WINDOW = 5 * 60  # seconds during which Discord honours enforce_nonce
MESSAGE_INTENTS = {True: 1 << 9, False: 1 << 12}  # GUILD_MESSAGES, DIRECT_MESSAGES
BODY_JSON = web.RequestKey("sandbox_json", object)
BODY_FILES = web.RequestKey("sandbox_files", list)


@dataclass
class RecordedCall:
    method: str
    path: str
    route: str
    query: dict[str, str]
    json: Any
    files: list[str]
    status: int
    at: float = field(default_factory=time.time)
    """When the request arrived (its rate limits were checked then), epoch seconds."""


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Exactly ``application/json``: with a charset discord.py would treat the body as text."""
    out = {"Content-Type": JSON_TYPE}
    out.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=out)


def error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return json_response({"code": code, "message": message, **extra}, status)


class Sandbox:
    """One fake Discord: a bot application, guilds with members, and the REST and gateway endpoints.

    Tests use the Python API (add_guild, invoke, autocomplete, click, channel_messages, calls);
    other processes use the JSON control API under ``/_sandbox``.
    """

    def __init__(
        self,
        *,
        token: str = "sandbox-token",
        host: str = "127.0.0.1",
        port: int = 0,
        shard_count: int = 1,
        deadline: float = 3.0,
        rate_limits: RateLimitConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        bot_name: str = "Cupola",
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.shard_count = shard_count
        self.deadline = deadline
        self.clock = clock
        self.ids = SnowflakeFactory()
        self.application_id = self.ids.next()
        self.bot_user = User(self.application_id, bot_name, bot=True)
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {None: []}
        self._command_ids: dict[tuple[int | None, str], int] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}
        # Called with each channel message as it is stored, before the poster gets its answer:
        # tests use it to start a fault at the worst moment (posted, not yet recorded).
        self.on_channel_message: list[Callable[[dict[str, Any]], None]] = []
        self.files: dict[int, StoredFile] = {}
        self.interactions: dict[int, ix.InteractionRecord] = {}
        self._by_token: dict[str, ix.InteractionRecord] = {}
        self.calls: list[RecordedCall] = []
        self.gateway_sessions: dict[str, GatewaySession] = {}
        self.identify_count = 0
        self.resume_count = 0
        self.rate_limiter = RateLimiter(rate_limits, clock)
        self.rate_limited: int = 0
        self._changed = asyncio.Condition()
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    # ------------------------------------------------------------------ world building
    def add_user(self, name: str, *, guild: Guild | None = None, roles: Iterable[Role] = ()) -> User:
        user = User(self.ids.next(), name)
        self.users[user.id] = user
        if guild is not None:
            guild.members[user.id] = Member(user, [r.id for r in roles])
        return user

    def add_guild(
        self, name: str = "Test Server", *, locale: str = "en-US", shard_id: int | None = None
    ) -> Guild:
        """A guild with @everyone, an Admins role, its owner, the bot and a #general channel."""
        gid = self.ids.for_shard(shard_id, self.shard_count) if shard_id is not None else self.ids.next()
        owner = User(self.ids.next(), f"owner-{len(self.guilds) + 1}")
        self.users[owner.id] = owner
        guild = Guild(gid, name, owner.id, locale=locale)
        guild.roles[gid] = Role(gid, "@everyone", MEMBER_DEFAULT)
        self.add_role(guild, "Admins", ADMINISTRATOR | MEMBER_DEFAULT)
        guild.members[owner.id] = Member(owner)
        guild.members[self.bot_user.id] = Member(self.bot_user)
        self.guilds[gid] = guild
        self.add_channel(guild, "general")
        return guild

    def add_role(self, guild: Guild, name: str, permissions: int) -> Role:
        role = Role(self.ids.next(), name, permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_channel(self, guild: Guild, name: str) -> Channel:
        channel = Channel(self.ids.next(), name, guild.id, position=len(guild.channels))
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def role(self, guild: Guild, name: str) -> Role:
        return next(r for r in guild.roles.values() if r.name == name)

    def default_channel(self, guild: Guild) -> Channel:
        return next(iter(guild.channels.values()))

    def guilds_for_shard(self, shard_id: int) -> list[Guild]:
        return [g for g in self.guilds.values() if shard_for(g.id, self.shard_count) == shard_id]

    def store_file(self, filename: str, data: bytes, content_type: str) -> StoredFile:
        stored = StoredFile(self.ids.next(), filename, data, content_type)
        self.files[stored.id] = stored
        return stored

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        r = app.router
        p = API_PREFIX
        r.add_get("/gateway", self._gateway)
        r.add_get("/attachments/{channel_id}/{file_id}/{filename}", self._attachment)
        r.add_get(p + "/gateway", self._get_gateway)
        r.add_get(p + "/gateway/bot", self._get_gateway_bot)
        r.add_get(p + "/users/@me", self._get_me)
        r.add_get(p + "/oauth2/applications/@me", self._get_application)
        r.add_get(p + "/applications/@me", self._get_application)
        r.add_get(p + "/applications/{app_id}/commands", self._get_commands)
        r.add_put(p + "/applications/{app_id}/commands", self._put_commands)
        r.add_get(p + "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands)
        r.add_put(p + "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands)
        r.add_post(p + "/interactions/{interaction_id}/{token}/callback", self._callback)
        r.add_post(p + "/webhooks/{app_id}/{token}", self._followup)
        r.add_get(p + "/webhooks/{app_id}/{token}/messages/{message_id}", self._get_webhook_message)
        r.add_patch(p + "/webhooks/{app_id}/{token}/messages/{message_id}", self._edit_webhook_message)
        r.add_delete(p + "/webhooks/{app_id}/{token}/messages/{message_id}", self._delete_webhook_message)
        r.add_get(p + "/channels/{channel_id}", self._get_channel)
        r.add_get(p + "/channels/{channel_id}/messages", self._get_messages)
        r.add_post(p + "/channels/{channel_id}/messages", self._post_message)
        r.add_get(p + "/channels/{channel_id}/messages/{message_id}", self._get_message)
        r.add_patch(p + "/channels/{channel_id}/messages/{message_id}", self._edit_message)
        r.add_delete(p + "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        r.add_get(p + "/guilds/{guild_id}", self._get_guild)
        from bot.sandbox.control import add_control_routes

        add_control_routes(app, self)
        r.add_route("*", p + "/{tail:.*}", self._not_found)
        return app

    async def start(self) -> str:
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server) and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        log.info("sandbox listening on %s", self.url)
        return self.url

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ watching messages
    def add_message_listener(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Call ``listener(event, message)`` for every message the bot makes visible or changes.

        ``event`` is "create" (a channel post, an interaction reply or follow-up, the "thinking"
        placeholder of a deferred reply) or "edit"; ephemeral messages are included (flag 64).
        """
        self._listeners.append(listener)

    def _emit(self, event: str, message: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(event, message)
            except Exception:  # a watcher's bug must not break the REST answer
                log.exception("sandbox message listener failed")

    # ------------------------------------------------------------------ waiting
    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy; every state change re-checks it."""

        async def _wait() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(_wait(), timeout)

    async def wait_for_commands(self, timeout: float = 10.0, guild: Guild | None = None) -> None:
        key = guild.id if guild else None
        await self.wait_until(lambda: self.commands.get(key), timeout)

    async def wait_for_connections(self, count: int = 1, timeout: float = 10.0) -> None:
        await self.wait_until(
            lambda: sum(1 for s in self.gateway_sessions.values() if s.connection) >= count, timeout
        )

    # ------------------------------------------------------------------ gateway
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream", "zstd-stream"):
            return error(400, 0, f"unsupported compress {compress!r}")
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024, autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        conn = GatewayConnection(self, ws, compress)
        try:
            await conn.serve()
        finally:
            self._sockets.discard(ws)
            await self.notify()
        return ws

    async def dispatch(self, guild_id: int | None, event: str, data: Any) -> None:
        """Send a gateway event to the shard that owns ``guild_id`` (shard 0 for DMs)."""
        shard_id = shard_for(guild_id, self.shard_count) if guild_id else 0
        needs = MESSAGE_INTENTS[guild_id is not None] if event.startswith("MESSAGE_") else 0
        for session in self.gateway_sessions.values():
            if session.shard_id == shard_id:
                if needs and session.intents != -1 and not session.intents & needs:
                    return  # like Discord: no message events without the GUILD/DIRECT_MESSAGES intent
                payload = session.next_payload(event, data)
                if session.connection is not None:
                    await session.connection.send(payload)
                return
        log.debug("no gateway session for shard %s; %s dropped", shard_id, event)

    async def drop_connection(self, shard_id: int = 0) -> None:
        """Break a shard's websocket without a clean close, as a network blip would."""
        for session in self.gateway_sessions.values():
            if session.shard_id == shard_id and session.connection is not None:
                conn = session.connection
                session.connection = None
                # 4000 is resumable: discord.py reconnects to resume_gateway_url and RESUMEs.
                await conn.ws.close(code=4000, message=b"sandbox dropped the connection")
                return

    async def invalidate_session(self, shard_id: int = 0) -> None:
        """Send INVALID_SESSION (not resumable) and forget the session: the client must IDENTIFY."""
        for session_id, session in list(self.gateway_sessions.items()):
            if session.shard_id == shard_id and session.connection is not None:
                conn = session.connection
                session.connection = None
                del self.gateway_sessions[session_id]
                await conn.send({"op": OP_INVALID_SESSION, "d": False})
                return

    # ------------------------------------------------------------------ middleware
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        info = request.match_info
        resource = info.route.resource
        template = f"{request.method} {resource.canonical[len(API_PREFIX) :]}" if resource else request.path
        arrived = time.time()
        body_json: Any = None
        files: list[str] = []
        needs_auth = not (
            template.startswith("POST /interactions/") or template.split(" ", 1)[1].startswith("/webhooks/")
        )
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            response: web.StreamResponse = error(401, 0, "401: Unauthorized")
        else:
            major = info.get("channel_id") or info.get("guild_id") or info.get("token") or ""
            decision = self.rate_limiter.check(
                template, major, exempt_global=template.startswith("POST /interactions/")
            )
            if not decision.allowed:
                self.rate_limited += 1
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": round(decision.retry_after, 3),
                    "global": decision.is_global,
                    "code": 0,
                }
                response = json_response(body, 429, {**decision.headers, "Via": "1.1 google"})
            else:
                try:
                    response = await handler(request)
                except web.HTTPException as exc:
                    response = error(exc.status, 0, exc.reason)
                response.headers.update(decision.headers)
            body_json = request.get(BODY_JSON)
            files = request.get(BODY_FILES, [])
        query = dict(request.query)
        self.calls.append(
            RecordedCall(
                request.method, request.path, template, query, body_json, files, response.status, arrived
            )
        )
        await self.notify()
        return response

    # ------------------------------------------------------------------ body parsing
    async def _read_body(self, request: web.Request) -> tuple[dict[str, Any], list[StoredFile]]:
        files: list[StoredFile] = []
        if request.content_type.startswith("multipart/"):
            payload: dict[str, Any] = {}
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue  # a nested multipart: Discord's clients never send one
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                elif part.filename is not None:
                    data = await part.read(decode=False)
                    ctype = part.headers.get("Content-Type", "application/octet-stream")
                    files.append(self.store_file(part.filename, bytes(data), ctype))
        elif request.can_read_body:
            payload = await request.json()
        else:
            payload = {}
        request[BODY_JSON] = payload
        request[BODY_FILES] = [f.filename for f in files]
        return payload, files

    def _file_limit(self, record: ix.InteractionRecord | None) -> int:
        if record is not None:
            return int(record.payload.get("attachment_size_limit", DEFAULT_ATTACHMENT_LIMIT))
        return DEFAULT_ATTACHMENT_LIMIT

    def _check_message(
        self,
        payload: dict[str, Any],
        files: list[StoredFile],
        *,
        creating: bool,
        record: ix.InteractionRecord | None,
    ) -> web.Response | None:
        limit = self._file_limit(record)
        for f in files:
            if len(f.data) > limit:
                return error(413, 40005, "Request entity too large")
        problem = validate_message(payload, has_files=bool(files), creating=creating)
        if problem is not None:
            return json_response(problem, 400)
        return None

    # ------------------------------------------------------------------ messages
    def _now_iso(self) -> str:
        return datetime.now(UTC).isoformat()

    def _attachments(
        self,
        payload: dict[str, Any],
        files: list[StoredFile],
        channel_id: int,
        existing: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        if "attachments" not in payload and not files:
            return existing
        keep_ids = {str(a.get("id")) for a in payload.get("attachments") or []}
        kept = [a for a in existing if a["id"] in keep_ids]
        return kept + [f.attachment_json(self.url, channel_id) for f in files]

    def _build_message(
        self,
        payload: dict[str, Any],
        files: list[StoredFile],
        channel_id: int,
        *,
        record: ix.InteractionRecord | None = None,
    ) -> dict[str, Any]:
        channel = self.channels.get(channel_id)
        message: dict[str, Any] = {
            "id": str(self.ids.next()),
            "type": 0,
            "channel_id": str(channel_id),
            "author": self.bot_user.to_json(),
            "content": payload.get("content") or "",
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "attachments": self._attachments(payload, files, channel_id, []),
            "flags": int(payload.get("flags") or 0),
            "timestamp": self._now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "allowed_mentions": payload.get("allowed_mentions"),
        }
        if channel is not None and channel.guild_id is not None:
            message["guild_id"] = str(channel.guild_id)
        if record is not None:
            message["type"] = 20 if record.kind == ix.APPLICATION_COMMAND else 0
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            user = record.payload.get("member", {}).get("user") or record.payload.get("user")
            message["interaction_metadata"] = {
                "id": str(record.id),
                "type": record.kind,
                "user": user,
                "authorizing_integration_owners": {},
            }
        return message

    def _apply_edit(self, message: dict[str, Any], payload: dict[str, Any], files: list[StoredFile]) -> None:
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in payload:
                message[key] = payload[key] if payload[key] is not None else ([] if key != "content" else "")
        if "flags" in payload and payload["flags"] is not None:
            message["flags"] = int(payload["flags"]) | (message.get("flags", 0) & ix.EPHEMERAL)
        message["flags"] = message.get("flags", 0) & ~ix.LOADING
        message["attachments"] = self._attachments(
            payload, files, int(message["channel_id"]), message["attachments"]
        )
        message["edited_timestamp"] = self._now_iso()

    async def _store_channel_message(self, message: dict[str, Any]) -> None:
        """Public (non-ephemeral) messages land in the channel's history and on the gateway."""
        channel_id = int(message["channel_id"])
        self.messages.setdefault(channel_id, []).append(message)
        for hook in self.on_channel_message:
            hook(message)
        guild_id = int(message["guild_id"]) if "guild_id" in message else None
        await self.dispatch(
            guild_id, "MESSAGE_CREATE", {k: v for k, v in message.items() if k != "allowed_mentions"}
        )

    def find_message(self, message_id: int | str) -> dict[str, Any] | None:
        mid = str(message_id)
        for msgs in self.messages.values():
            for msg in msgs:
                if msg["id"] == mid:
                    return msg
        for record in self.interactions.values():
            for reply in [record.original, *record.followups]:
                if reply is not None and reply["id"] == mid:
                    return reply
        return None

    # ------------------------------------------------------------------ REST handlers
    async def _not_found(self, request: web.Request) -> web.Response:
        log.warning("sandbox: unimplemented route %s %s", request.method, request.path)
        return error(404, 0, "404: Not Found")

    async def _attachment(self, request: web.Request) -> web.Response:
        stored = self.files.get(int(request.match_info["file_id"]))
        if stored is None:
            return web.Response(status=404)
        return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_me(self, request: web.Request) -> web.Response:
        data = self.bot_user.to_json()
        data.update({"verified": True, "mfa_enabled": False, "flags": 0, "email": None, "locale": "en-US"})
        return json_response(data)

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "Sandbox application",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": {**self.bot_user.to_json(), "bot": False, "username": "sandbox-owner"},
                "team": None,
                "flags": 0,
                "interactions_endpoint_url": None,
                "summary": "",
                "rpc_origins": [],
            }
        )

    def _guild_key(self, request: web.Request) -> int | None:
        gid = request.match_info.get("guild_id")
        return int(gid) if gid else None

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.commands.get(self._guild_key(request), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        body, _ = await self._read_body(request)
        payload = cast(list[dict[str, Any]], body)  # PUT /commands sends a JSON array
        key = self._guild_key(request)
        if key is not None and key not in self.guilds:
            return error(404, 10004, "Unknown Guild")
        names = [c.get("name") for c in payload]
        if len(names) != len(set(names)):
            return error(
                400,
                50035,
                "Invalid Form Body",
                errors={"_errors": [{"code": "APPLICATION_COMMANDS_DUPLICATE_NAME"}]},
            )
        if len(payload) > 100:
            return error(400, 30032, "Maximum number of application commands reached (100)")
        stored = []
        for cmd in payload:
            cid = self._command_ids.setdefault((key, cmd["name"]), self.ids.next())
            full = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                "name_localizations": None,
                "description_localizations": None,
                **cmd,
                "id": str(cid),
                "application_id": str(self.application_id),
                "version": str(self.ids.next()),
            }
            if full["default_member_permissions"] is not None:  # Discord answers with a string
                full["default_member_permissions"] = str(full["default_member_permissions"])
            if key is not None:
                full["guild_id"] = str(key)
            stored.append(full)
        self.commands[key] = stored
        return json_response(stored)

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channels.get(int(request.match_info["channel_id"]))
        if channel is None:
            return error(404, 10003, "Unknown Channel")
        return json_response(channel.to_json())

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            return error(404, 10004, "Unknown Guild")
        data = guild.to_create_json()
        for key in ("members", "channels", "voice_states", "presences", "threads"):
            data.pop(key, None)
        return json_response(data)

    async def _get_messages(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["channel_id"])
        if cid not in self.channels:
            return error(404, 10003, "Unknown Channel")
        limit = min(int(request.query.get("limit", 50)), 100)
        return json_response(list(reversed(self.messages.get(cid, [])))[:limit])

    async def _get_message(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["channel_id"])
        for msg in self.messages.get(cid, []):
            if msg["id"] == request.match_info["message_id"]:
                return json_response(msg)
        return error(404, 10008, "Unknown Message")

    async def _post_message(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["channel_id"])
        payload, files = await self._read_body(request)
        if cid not in self.channels:
            return error(404, 10003, "Unknown Channel")
        problem = self._check_message(payload, files, creating=True, record=None)
        if problem is not None:
            return problem
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            # Discord returns the earlier message instead of posting the same nonce twice.
            horizon = datetime.now(UTC).timestamp() - NONCE_WINDOW
            for earlier in reversed(self.messages.get(cid, [])):
                if (
                    earlier.get("nonce") == str(nonce)
                    and datetime.fromisoformat(earlier["timestamp"]).timestamp() > horizon
                ):
                    return json_response(earlier)
        message = self._build_message(payload, files, cid)
        if nonce is not None:
            message["nonce"] = str(nonce)
        await self._store_channel_message(message)
        self._emit("create", message)
        return json_response(message)

    async def _edit_message(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["channel_id"])
        payload, files = await self._read_body(request)
        for msg in self.messages.get(cid, []):
            if msg["id"] == request.match_info["message_id"]:
                problem = self._check_message(payload, files, creating=False, record=None)
                if problem is not None:
                    return problem
                self._apply_edit(msg, payload, files)
                self._emit("edit", msg)
                return json_response(msg)
        return error(404, 10008, "Unknown Message")

    async def _delete_message(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["channel_id"])
        msgs = self.messages.get(cid, [])
        for i, msg in enumerate(msgs):
            if msg["id"] == request.match_info["message_id"]:
                del msgs[i]
                return web.Response(status=204)
        return error(404, 10008, "Unknown Message")

    # ------------------------------------------------------------------ interactions (REST side)
    async def _callback(self, request: web.Request) -> web.Response:
        payload, files = await self._read_body(request)
        record = self.interactions.get(int(request.match_info["interaction_id"]))
        if record is None or record.token != request.match_info["token"]:
            return error(404, 10062, "Unknown interaction")
        if self.clock() - record.created_at > self.deadline:
            record.errors.append("late")
            await self.notify()
            return error(404, 10062, "Unknown interaction")
        if record.response_type is not None:
            record.errors.append("double-acknowledge")
            return error(400, 40060, "Interaction has already been acknowledged.")
        kind = int(payload.get("type", 0))
        data = payload.get("data") or {}
        channel_id = int(record.payload["channel_id"])
        resource: dict[str, Any] = {"type": kind}
        if kind == ix.CHANNEL_MESSAGE:
            problem = self._check_message(data, files, creating=True, record=record)
            if problem is not None:
                record.errors.append(f"invalid: {problem.text}")
                await self.notify()
                return problem
            message = self._build_message(data, files, channel_id, record=record)
            record.original = message
            if not message["flags"] & ix.EPHEMERAL:
                await self._store_channel_message(message)
            resource["message"] = message
            self._emit("create", message)
        elif kind == ix.DEFERRED_CHANNEL_MESSAGE:
            flags = int(data.get("flags") or 0) | ix.LOADING
            message = self._build_message({"flags": flags, "content": ""}, [], channel_id, record=record)
            record.original = message
            resource["message"] = message
            self._emit("create", message)
        elif kind in (ix.UPDATE_MESSAGE, ix.DEFERRED_UPDATE_MESSAGE):
            if record.kind != ix.MESSAGE_COMPONENT:
                return error(400, 40043, "Interaction is not a component interaction")
            target = self.find_message(record.payload["message"]["id"])
            if target is None:
                return error(404, 10008, "Unknown Message")
            if kind == ix.UPDATE_MESSAGE:
                problem = self._check_message(data, files, creating=False, record=record)
                if problem is not None:
                    return problem
                self._apply_edit(target, data, files)
                record.edits += 1
                resource["message"] = target
                self._emit("edit", target)
            record.original = target
        elif kind == ix.AUTOCOMPLETE_RESULT:
            choices = data.get("choices") or []
            if len(choices) > 25:
                record.errors.append("too-many-choices")
                return error(
                    400,
                    50035,
                    "Invalid Form Body",
                    errors={"choices": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}},
                )
            record.choices = choices
        elif kind == ix.MODAL:
            record.modal = data
        elif kind != ix.PONG:
            return error(400, 50035, f"Invalid interaction response type {kind}")
        record.response_type = kind
        await self.notify()
        body = {
            "interaction": {
                "id": str(record.id),
                "type": record.kind,
                "response_message_id": (record.original or {}).get("id"),
                "response_message_loading": kind == ix.DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool((record.original or {}).get("flags", 0) & ix.EPHEMERAL),
            },
            "resource": resource,
        }
        return json_response(body)

    def _record_for_webhook(self, request: web.Request) -> ix.InteractionRecord | None:
        record = self._by_token.get(request.match_info["token"])
        if record is None or self.clock() - record.created_at > TOKEN_LIFETIME:
            return None
        return record

    async def _followup(self, request: web.Request) -> web.Response:
        payload, files = await self._read_body(request)
        record = self._record_for_webhook(request)
        if record is None:
            return error(404, 10015, "Unknown Webhook")
        if record.response_type is None:
            return error(400, 40060, "Interaction has not been acknowledged.")
        problem = self._check_message(payload, files, creating=True, record=record)
        if problem is not None:
            record.errors.append(f"invalid: {problem.text}")
            await self.notify()
            return problem
        message = self._build_message(payload, files, int(record.payload["channel_id"]), record=record)
        if record.original is not None and record.original.get("flags", 0) & ix.LOADING:
            # The first follow-up after a defer replaces the "thinking" message, as Discord does.
            message["id"] = record.original["id"]
            message["flags"] |= record.original["flags"] & ix.EPHEMERAL
            record.original = message
        else:
            record.followups.append(message)
        if not message["flags"] & ix.EPHEMERAL:
            await self._store_channel_message(message)
        self._emit("create", message)
        await self.notify()
        return json_response(message)

    def _webhook_target(self, record: ix.InteractionRecord, message_id: str) -> dict[str, Any] | None:
        if message_id == "@original":
            return record.original
        for msg in [record.original, *record.followups]:
            if msg is not None and msg["id"] == message_id:
                return msg
        return None

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        target = record and self._webhook_target(record, request.match_info["message_id"])
        if not target:
            return error(404, 10008, "Unknown Message")
        return json_response(target)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        payload, files = await self._read_body(request)
        record = self._record_for_webhook(request)
        target = record and self._webhook_target(record, request.match_info["message_id"])
        if record is None or not target:
            return error(404, 10008, "Unknown Message")
        problem = self._check_message(payload, files, creating=False, record=record)
        if problem is not None:
            record.errors.append(f"invalid: {problem.text}")
            await self.notify()
            return problem
        was_loading = bool(target.get("flags", 0) & ix.LOADING)
        self._apply_edit(target, payload, files)
        record.edits += 1
        if was_loading and not target["flags"] & ix.EPHEMERAL:
            await self._store_channel_message(target)
        self._emit("create" if was_loading else "edit", target)
        await self.notify()
        return json_response(target)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        target = record and self._webhook_target(record, request.match_info["message_id"])
        if record is None or not target:
            return error(404, 10008, "Unknown Message")
        for msgs in self.messages.values():
            if target in msgs:
                msgs.remove(target)
        if target is record.original:
            record.original = None
        elif target in record.followups:
            record.followups.remove(target)
        await self.notify()
        return web.Response(status=204)

    # ------------------------------------------------------------------ interactions (test side)
    def _context(
        self, guild: Guild | None, channel: Channel | None, user: User | Member | None
    ) -> tuple[Guild | None, Channel, User]:
        if guild is None and channel is not None and channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
        if guild is None:
            guild = next(iter(self.guilds.values()))
        if channel is None:
            channel = self.default_channel(guild)
        if isinstance(user, Member):
            user = user.user
        if user is None:
            user = self.users[guild.owner_id]
        return guild, channel, user

    def _base_payload(
        self, kind: int, guild: Guild | None, channel: Channel, user: User, locale: str
    ) -> dict[str, Any]:
        iid = self.ids.next()
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": kind,
            "token": ix.new_token(),
            "version": 1,
            "locale": locale,
            "channel_id": str(channel.id),
            "channel": {**channel.to_json(), "permissions": str(ALL_PERMISSIONS)},
            "entitlements": [],
            "attachment_size_limit": DEFAULT_ATTACHMENT_LIMIT,
            "app_permissions": str(ALL_PERMISSIONS),
            "context": 0,
            "authorizing_integration_owners": {"0": str(guild.id) if guild else "0"},
        }
        if guild is not None:
            member = guild.members.get(user.id) or Member(user)
            payload["guild_id"] = str(guild.id)
            payload["guild_locale"] = guild.locale
            payload["guild"] = {"id": str(guild.id), "locale": guild.locale, "features": []}
            payload["member"] = {**member.to_json(), "permissions": str(guild.permissions_of(user.id))}
        else:
            payload["user"] = user.to_json()
        return payload

    def commands_for(self, guild: Guild | None) -> list[dict[str, Any]]:
        out = list(self.commands.get(guild.id, [])) if guild is not None else []
        return out + list(self.commands.get(None, []))

    def build_command_payload(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        guild: Guild | None = None,
        channel: Channel | None = None,
        user: User | Member | None = None,
        locale: str = "en-US",
        focused: str | None = None,
        validate: bool = True,
    ) -> dict[str, Any]:
        guild, channel, user = self._context(guild, channel, user)
        schema, path = ix.find_command(self.commands_for(guild), command)
        kind = ix.AUTOCOMPLETE if focused else ix.APPLICATION_COMMAND
        payload = self._base_payload(kind, guild, channel, user, locale)
        builder = ix.OptionBuilder(
            guild=guild, store_file=self.store_file, file_base=self.url, channel_id=channel.id
        )
        opts = builder.build(
            schema.get("options") or [], path, options or {}, focused=focused, validate=validate
        )
        data: dict[str, Any] = {"id": schema["id"], "name": schema["name"], "type": 1, "options": opts}
        if schema.get("guild_id"):
            data["guild_id"] = schema["guild_id"]
        resolved = builder.resolved.to_json()
        if resolved:
            data["resolved"] = resolved
        payload["data"] = data
        return payload

    async def send_interaction(self, payload: dict[str, Any]) -> ix.InteractionRecord:
        """Deliver a (possibly hand-crafted) interaction over the gateway and start tracking it."""
        record = ix.InteractionRecord(int(payload["id"]), payload["token"], payload, self.clock())
        self.interactions[record.id] = record
        self._by_token[record.token] = record
        guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        await self.dispatch(guild_id, "INTERACTION_CREATE", payload)
        return record

    async def wait_answered(
        self, record: ix.InteractionRecord, timeout: float = 10.0
    ) -> ix.InteractionRecord:
        await self.wait_until(lambda: record.answered, timeout)
        return record

    async def invoke(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        guild: Guild | None = None,
        channel: Channel | None = None,
        user: User | Member | None = None,
        locale: str = "en-US",
        wait: bool = True,
        timeout: float = 10.0,
        validate: bool = True,
    ) -> ix.InteractionRecord:
        """Run a slash command as ``user`` would; by default wait until the bot's answer is visible."""
        payload = self.build_command_payload(
            command, options, guild=guild, channel=channel, user=user, locale=locale, validate=validate
        )
        record = await self.send_interaction(payload)
        if wait:
            await self.wait_answered(record, timeout)
        return record

    async def autocomplete(
        self,
        command: str,
        options: dict[str, Any],
        focused: str,
        *,
        guild: Guild | None = None,
        channel: Channel | None = None,
        user: User | Member | None = None,
        locale: str = "en-US",
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        payload = self.build_command_payload(
            command, options, guild=guild, channel=channel, user=user, locale=locale, focused=focused
        )
        record = await self.send_interaction(payload)
        await self.wait_answered(record, timeout)
        return record.choices or []

    def buttons(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            c
            for row in message.get("components") or []
            for c in row.get("components") or []
            if c.get("type") == 2
        ]

    async def click(
        self,
        message: dict[str, Any],
        custom_id: str | None = None,
        *,
        index: int = 0,
        user: User | Member | None = None,
        locale: str = "en-US",
        wait: bool = True,
        timeout: float = 10.0,
    ) -> ix.InteractionRecord:
        """Press a button on a message the bot sent (by custom_id, or the index-th button)."""
        buttons = [b for b in self.buttons(message) if "custom_id" in b]
        if custom_id is None:
            custom_id = buttons[index]["custom_id"]
        elif not any(b["custom_id"] == custom_id for b in buttons):
            raise ix.CommandError(f"no button {custom_id!r} on message {message['id']}")
        channel = self.channels[int(message["channel_id"])]
        guild, channel, user_obj = self._context(None, channel, user)
        payload = self._base_payload(ix.MESSAGE_COMPONENT, guild, channel, user_obj, locale)
        payload["message"] = {k: v for k, v in message.items() if k != "allowed_mentions"}
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        record = await self.send_interaction(payload)
        if wait:
            await self.wait_answered(record, timeout)
        return record

    def channel_messages(self, channel: Channel | int) -> list[dict[str, Any]]:
        cid = channel.id if isinstance(channel, Channel) else int(channel)
        return list(self.messages.get(cid, []))

    def calls_to(self, method: str, route_prefix: str = "") -> list[RecordedCall]:
        return [
            c for c in self.calls if c.method == method and c.route.split(" ", 1)[1].startswith(route_prefix)
        ]
