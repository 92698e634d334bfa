"""Build helpers for this repository, run through the Makefile."""
