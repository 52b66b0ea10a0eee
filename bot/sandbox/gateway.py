"""Gateway v10 sessions: HELLO, heartbeats, IDENTIFY/READY, RESUME and compressed dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41_250
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_RESUME = 0, 1, 2, 6
OP_RECONNECT, OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 7, 9, 10, 11
CLOSE_AUTH_FAILED, CLOSE_INVALID_SHARD, CLOSE_DECODE_ERROR = 4004, 4010, 4002
REPLAY_BUFFER = 1000


class _Compressor:
    """Transport compression for one connection: a single stream for its whole life."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        if kind == "zlib-stream":
            self._zlib = zlib.compressobj()
        elif kind == "zstd-stream":
            import zstandard

            self._zstd_flush = zstandard.COMPRESSOBJ_FLUSH_BLOCK
            self._zstd = zstandard.ZstdCompressor().compressobj()

    def encode(self, text: str) -> bytes | str:
        data = text.encode()
        if self.kind == "zlib-stream":
            return self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        if self.kind == "zstd-stream":
            return self._zstd.compress(data) + self._zstd.flush(self._zstd_flush)
        return text


@dataclass
class GatewaySession:
    """A logical session that outlives its websocket, so RESUME can replay what was missed."""

    session_id: str
    shard_id: int
    shard_count: int
    intents: int = -1
    """What IDENTIFY asked for (-1: everything); message events go only to sessions that asked."""
    seq: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)
    connection: GatewayConnection | None = None

    def next_payload(self, event: str, data: Any) -> dict[str, Any]:
        self.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(payload)
        del self.buffer[:-REPLAY_BUFFER]
        return payload


class GatewayConnection:
    def __init__(self, sandbox: Sandbox, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.sandbox = sandbox
        self.ws = ws
        self.compressor = _Compressor(compress)
        self.session: GatewaySession | None = None
        self._send_lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        async with self._send_lock:
            encoded = self.compressor.encode(json.dumps(payload))
            try:
                if isinstance(encoded, bytes):
                    await self.ws.send_bytes(encoded)
                else:
                    await self.ws.send_str(encoded)
            except (ConnectionResetError, RuntimeError):
                log.debug("gateway send on a closing socket dropped")

    async def serve(self) -> None:
        await self.send({"op": OP_HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        async for msg in self.ws:
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            try:
                payload = json.loads(msg.data)
            except ValueError:
                await self.ws.close(code=CLOSE_DECODE_ERROR, message=b"Error while decoding payload.")
                break
            await self._handle(payload)
        if self.session is not None and self.session.connection is self:
            self.session.connection = None

    async def _handle(self, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            await self.send({"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            await self._identify(data or {})
        elif op == OP_RESUME:
            await self._resume(data or {})
        else:
            log.debug("gateway op %s ignored", op)

    async def _identify(self, data: dict[str, Any]) -> None:
        sandbox = self.sandbox
        if data.get("token") != sandbox.token:
            await self.ws.close(code=CLOSE_AUTH_FAILED, message=b"Authentication failed.")
            return
        shard_id, shard_count = data.get("shard") or [0, 1]
        if shard_count != sandbox.shard_count or not 0 <= shard_id < shard_count:
            await self.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return
        session = GatewaySession(
            secrets.token_hex(16), shard_id, shard_count, intents=int(data.get("intents", -1))
        )
        # A new IDENTIFY for a shard replaces that shard's older sessions (one bot per sandbox).
        for old_id, old in list(sandbox.gateway_sessions.items()):
            if old.shard_id == shard_id:
                del sandbox.gateway_sessions[old_id]
        sandbox.gateway_sessions[session.session_id] = session
        sandbox.identify_count += 1
        self.session = session
        session.connection = self
        guilds = sandbox.guilds_for_shard(shard_id)
        ready = {
            "v": 10,
            "user": sandbox.bot_user.to_json(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": sandbox.gateway_url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(sandbox.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
        }
        await self.send(session.next_payload("READY", ready))
        for guild in guilds:
            await self.send(session.next_payload("GUILD_CREATE", guild.to_create_json()))
        await sandbox.notify()

    async def _resume(self, data: dict[str, Any]) -> None:
        sandbox = self.sandbox
        session = sandbox.gateway_sessions.get(str(data.get("session_id")))
        if data.get("token") != sandbox.token or session is None:
            await self.send({"op": OP_INVALID_SESSION, "d": False})
            return
        seq = int(data.get("seq") or 0)
        if session.buffer and seq < session.buffer[0]["s"] - 1:
            await self.send({"op": OP_INVALID_SESSION, "d": False})
            return
        self.session = session
        old = session.connection
        session.connection = self
        if old is not None and old is not self:
            with contextlib.suppress(Exception):
                await old.ws.close(code=4000)
        for payload in session.buffer:
            if payload["s"] > seq:
                await self.send(payload)
        sandbox.resume_count += 1
        await self.send(session.next_payload("RESUMED", {}))
        await sandbox.notify()
