"""Pure functions from raw payloads to typed Arrow rows (no I/O, no clock)."""
