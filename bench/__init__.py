"""Benchmarks: `./dev bench NAME` runs `python -m bench.NAME`."""
