"""A local Discord-compatible server for tests, benchmarks and ``cupola console``."""

from bot.sandbox.interactions import CommandError, InteractionRecord, Upload
from bot.sandbox.model import Channel, Guild, Member, Role, User
from bot.sandbox.ratelimit import Limit, RateLimitConfig
from bot.sandbox.server import RecordedCall, Sandbox

__all__ = [
    "Channel",
    "CommandError",
    "Guild",
    "InteractionRecord",
    "Limit",
    "Member",
    "RateLimitConfig",
    "RecordedCall",
    "Role",
    "Sandbox",
    "Upload",
    "User",
]
