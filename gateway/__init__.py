"""Novara Schema V2 gateway: a thin HTTP layer over the PostgreSQL functions in db/."""

__version__ = "0.1.0"
