"""HTTP in: the route table, ActivityPub endpoints, well-known documents, error responses.

The only package that imports Starlette.
"""
