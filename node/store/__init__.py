"""Storage: SQLAlchemy models, the engine and sessions, named queries, migrations.

No SQL is written outside this package; the rest of the node calls the named
query functions in ``actors``, ``members`` and their siblings.
"""
