"""Benchmarks: `make bench` runs all, `make bench NAME=x` one (bench/x.py)."""
