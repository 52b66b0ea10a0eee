"""The one error this package raises for pictures it will not take."""

from __future__ import annotations

from bot.i18n import Coded


class ImageRejected(Coded, ValueError):
    """A picture was refused; ``key`` and ``params`` say why in the catalog (bot/locale/images.toml),
    in the reader's language; ``message`` is the English text.

    ``code`` is a short slug for logs, metrics and tests: ``empty``, ``too_large``, ``bomb``,
    ``truncated``, ``corrupt``, ``not_an_image``, ``unsupported_format``, ``too_many_frames``.
    """

    def __init__(self, code: str, key: str, **params: object) -> None:
        self.code = code
        self.key = key
        self.params = params
        super().__init__(key)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ImageRejected({self.code!r}, {self.message!r})"
