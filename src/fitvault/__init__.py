"""fitvault: your Fitbit / Google Health data in a local DuckDB vault."""
