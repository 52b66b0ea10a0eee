"""Pictures: safe processing of uploads, perceptual hashes, storage, credit cards, collages.

All functions are synchronous and CPU/IO bound: call them with ``asyncio.to_thread`` (or the
``*_async`` wrappers), never directly on the event loop.
"""

from __future__ import annotations

from bot.media.cards import collage_2x2, collage_2x2_async, render_credit_card, render_credit_card_async
from bot.media.errors import ImageRejected
from bot.media.images import ProcessedImage, perceptual_hash, process_image, process_image_async
from bot.media.phash import SAME_PICTURE_DISTANCE, hamming, same_picture
from bot.media.store import ImageStore

__all__ = [
    "SAME_PICTURE_DISTANCE",
    "ImageRejected",
    "ImageStore",
    "ProcessedImage",
    "collage_2x2",
    "collage_2x2_async",
    "hamming",
    "perceptual_hash",
    "process_image",
    "process_image_async",
    "render_credit_card",
    "render_credit_card_async",
    "same_picture",
]
