"""Throughput and latency of Cupola's app commands against the local sandbox, next to a bare discord.py floor.

Run ``python -m bench``; scenarios live in ``bench.scenarios`` (a registry of name → async function).
"""
