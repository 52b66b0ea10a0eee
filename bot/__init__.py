"""Cupola: a self-hosted Discord bot for space-news communities."""

__version__ = "0.1.0"
