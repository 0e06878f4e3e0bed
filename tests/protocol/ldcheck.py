"""Offline JSON-LD checks shared by the context and FEDERATION.md tests (test-only, uses pyld).

The AS2 context sets ``"@vocab": "_:"``, so a key no context defines is not
dropped by expansion: it silently becomes a blank-node property ``_:key``.
``undefined_terms`` finds those; ``dropped_keys`` finds keys that expansion
really discarded (e.g. a term mapped to ``null``), by comparing the keys of the
document with the keys of its expand-then-compact round trip.
"""

from __future__ import annotations

from typing import Any

from pyld import jsonld

from protocol.contexts import document_loader

__all__ = ["dropped_keys", "expand", "key_paths", "node_types", "property_iris", "undefined_terms"]

_OPTIONS = {"documentLoader": document_loader}


def expand(document: dict[str, Any]) -> list[Any]:
    """``document`` expanded by pyld with only the vendored contexts (no network)."""
    return list(jsonld.expand(document, dict(_OPTIONS)))


def _walk(value: Any) -> list[dict[str, Any]]:
    """Every JSON object nested anywhere in ``value`` (itself included)."""
    if isinstance(value, list):
        return [node for item in value for node in _walk(item)]
    if isinstance(value, dict):
        return [value, *(node for item in value.values() for node in _walk(item))]
    return []


def property_iris(expanded: list[Any]) -> set[str]:
    """All property IRIs used in an expanded document."""
    return {key for node in _walk(expanded) for key in node if not key.startswith("@")}


def node_types(expanded: list[Any]) -> set[str]:
    """All ``@type`` IRIs of node objects in an expanded document."""
    found: set[str] = set()
    for node in _walk(expanded):
        types = node.get("@type", [])
        if "@value" not in node:
            found.update(types if isinstance(types, list) else [types])
    return found


def undefined_terms(expanded: list[Any]) -> set[str]:
    """Properties and types that no context defined (AS2's ``@vocab`` made them ``_:x``)."""
    return {iri for iri in property_iris(expanded) | node_types(expanded) if iri.startswith("_:")}


def key_paths(document: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every key of ``document`` as a path of keys (list positions ignored, no ``@context``)."""
    if isinstance(document, list):
        return {path for item in document for path in key_paths(item, prefix)}
    if not isinstance(document, dict):
        return set()
    paths: set[tuple[str, ...]] = set()
    for key, value in document.items():
        if key != "@context":
            paths.add((*prefix, key))
            paths |= key_paths(value, (*prefix, key))
    return paths


def dropped_keys(document: dict[str, Any]) -> set[tuple[str, ...]]:
    """Keys of ``document`` that do not survive expand-then-compact with its own context."""
    options = dict(_OPTIONS)
    compacted = jsonld.compact(
        jsonld.expand(document, options), {"@context": document["@context"]}, options
    )
    return key_paths(document) - key_paths(compacted)
