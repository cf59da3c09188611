"""Benchmarks, run by hand (``python -m bench.fanout`` etc.); never collected by the test suite.

See docs/benchmarks.md for what each one measures and the figures.
"""
