"""Fetchers: generators of raw pages from each source (I/O only)."""
