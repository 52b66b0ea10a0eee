"""Helpers shared by the tests (and, for the synthetic content, by the benchmarks in bench/)."""
