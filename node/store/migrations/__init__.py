"""Alembic migrations for the node's database (run with ``sharing-care migrate``)."""
