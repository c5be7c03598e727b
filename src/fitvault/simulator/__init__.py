"""A faithful local simulator of the APIs fitvault reads, rendered from one synthetic person."""
