"""A small JSON control API so other processes (the console, benchmarks, scripts) can drive the sandbox."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.interactions import CommandError, Upload

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

PREFIX = "/_sandbox"


def _options(sandbox: Sandbox, guild: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """JSON option values: ids for users/roles/channels, {filename, base64} for attachments."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, dict) and "base64" in value:
            out[name] = Upload(
                value.get("filename", "upload.bin"),
                base64.b64decode(value["base64"]),
                value.get("content_type", "application/octet-stream"),
            )
        elif isinstance(value, dict) and "channel_id" in value:
            out[name] = sandbox.channels[int(value["channel_id"])]
        elif isinstance(value, dict) and "user_id" in value:
            out[name] = sandbox.users[int(value["user_id"])]
        elif isinstance(value, dict) and "role_id" in value:
            out[name] = guild.roles[int(value["role_id"])]
        else:
            out[name] = value
    return out


def add_control_routes(app: web.Application, sandbox: Sandbox) -> None:
    def ctx(body: dict[str, Any]) -> dict[str, Any]:
        guild = sandbox.guilds.get(int(body["guild_id"])) if body.get("guild_id") else None
        channel = sandbox.channels.get(int(body["channel_id"])) if body.get("channel_id") else None
        user = sandbox.users.get(int(body["user_id"])) if body.get("user_id") else None
        return {"guild": guild, "channel": channel, "user": user, "locale": body.get("locale", "en-US")}

    async def state(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "application_id": str(sandbox.application_id),
                "api_base": sandbox.api_base,
                "guilds": [
                    {
                        "id": str(g.id),
                        "name": g.name,
                        "owner_id": str(g.owner_id),
                        "channels": [{"id": str(c.id), "name": c.name} for c in g.channels.values()],
                        "members": [
                            {"id": str(m.user.id), "name": m.user.username} for m in g.members.values()
                        ],
                    }
                    for g in sandbox.guilds.values()
                ],
                "commands": {str(k): v for k, v in sandbox.commands.items()},
            }
        )

    async def interaction(request: web.Request) -> web.Response:
        body = await request.json()
        c = ctx(body)
        try:
            record = await sandbox.invoke(
                body["command"],
                _options(sandbox, c["guild"], body.get("options") or {}),
                timeout=float(body.get("timeout", 10)),
                **c,
            )
        except CommandError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except TimeoutError:
            return web.json_response({"error": "the bot did not answer in time"}, status=504)
        return web.json_response(record.to_json())

    async def autocomplete(request: web.Request) -> web.Response:
        body = await request.json()
        c = ctx(body)
        try:
            choices = await sandbox.autocomplete(
                body["command"], body.get("options") or {}, body["focused"], **c
            )
        except CommandError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"choices": choices})

    async def click(request: web.Request) -> web.Response:
        body = await request.json()
        message = sandbox.find_message(body["message_id"])
        if message is None:
            return web.json_response({"error": "unknown message"}, status=404)
        user = sandbox.users.get(int(body["user_id"])) if body.get("user_id") else None
        try:
            record = await sandbox.click(
                message, body.get("custom_id"), index=int(body.get("index", 0)), user=user
            )
        except (CommandError, IndexError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(record.to_json())

    async def messages(request: web.Request) -> web.Response:
        return web.json_response(sandbox.channel_messages(int(request.match_info["channel_id"])))

    async def calls(request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"method": c.method, "path": c.path, "route": c.route, "status": c.status}
                for c in sandbox.calls
            ]
        )

    app.router.add_get(PREFIX + "/state", state)
    app.router.add_post(PREFIX + "/interactions", interaction)
    app.router.add_post(PREFIX + "/autocomplete", autocomplete)
    app.router.add_post(PREFIX + "/click", click)
    app.router.add_get(PREFIX + "/channels/{channel_id}/messages", messages)
    app.router.add_get(PREFIX + "/calls", calls)
