"""Every error the node itself raises, as one tree.

Protocol rule breaks raise :mod:`protocol.errors`; these are the node's own
failures: bad configuration, a database at the wrong revision, a thing that is
not there. ``str(error)`` is written to be safe to show to whoever caused it
(an operator at the CLI, or a remote party through ``node.web.errors``); the
web layer decides the HTTP status, in one table.

    NodeError
    ├── ConfigError             configuration is invalid (lists every problem)
    ├── DatabaseNotAtHead       the schema is not at the newest migration
    ├── InvalidInput            a value given to a command or action is unusable
    ├── AlreadyExists           a unique thing (handle, username, data dir) is taken
    └── NotFound                no such actor, member or resource here
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "ConfigError",
    "DatabaseNotAtHead",
    "InvalidInput",
    "NodeError",
    "NotFound",
]


class NodeError(Exception):
    """Base class: the node cannot do what was asked, for a reason it can name."""


class ConfigError(NodeError):
    """The configuration is invalid; ``problems`` lists every problem found.

    All problems are collected before raising so an operator fixes them in one
    pass instead of one restart per typo.
    """

    def __init__(self, problems: tuple[str, ...] | list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid configuration: " + "; ".join(self.problems))


class DatabaseNotAtHead(NodeError):
    """The database schema is not at the newest migration, so serving could corrupt it."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        shown = current or "empty (no schema)"
        super().__init__(
            f"database is at revision {shown}, this code needs {head}: "
            "run `sharing-care migrate --data-dir DIR` first"
        )


class InvalidInput(NodeError):
    """A value given to a command or an action does not fit its rules."""


class AlreadyExists(NodeError):
    """Something that must be unique (a handle, a username, a data directory) is taken."""


class NotFound(NodeError):
    """The actor, member or resource asked for does not exist on this node."""
