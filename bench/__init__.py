"""Benchmarks at up to a million votes, each figure beside its baseline: `make bench`, see docs/performance.md."""
