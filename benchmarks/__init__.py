"""Benchmarks of xai-course: `make bench` runs `python -m benchmarks`."""
