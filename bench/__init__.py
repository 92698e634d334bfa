"""Benchmarks for kfn (``make bench``)."""
