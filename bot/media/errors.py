"""The one error this package raises for pictures it will not take."""

from __future__ import annotations


class ImageRejected(ValueError):
    """A picture was refused; ``message`` is safe to show to the user as is.

    ``code`` is a short slug for logs, metrics and tests: ``empty``, ``too_large``, ``bomb``,
    ``truncated``, ``corrupt``, ``not_an_image``, ``unsupported_format``, ``too_many_frames``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ImageRejected({self.code!r}, {self.message!r})"
