"""``python -m node`` runs the ``sharing-care`` command."""

from node.cli import main

raise SystemExit(main())
