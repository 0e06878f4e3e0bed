"""RFC 9421 HTTP Message Signatures: ``Signature-Input`` and ``Signature``.

``Signature-Input: sig1=("@method" "@target-uri" "content-digest");created=…;
keyid="…";alg="…"`` and ``Signature: sig1=:<base64>:``. The signature base is
one ``"<component>": <value>`` line per covered component, then the
``"@signature-params"`` line (RFC 9421 §2.5).

Policy follows Mastodon 4.5 (app/lib/signed_request.rb): ``created`` is
required, ``@method`` and ``@target-uri`` must be covered (we also accept
``@authority`` + ``@path``), and a request with a body must cover
``content-digest``. Algorithms: ``rsa-v1_5-sha256`` and ``ed25519``, or none,
in which case the key decides (§3.2: the key material may determine it).
``rsa-pss-sha512``, HMAC and ECDSA are refused: no fediverse key uses them.
When several signatures are present, the first label in ``Signature-Input``
that ``Signature`` also carries is the one verified (§4.3 leaves the choice to
the verifier).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from protocol.errors import (
    ComponentNotCovered,
    InvalidSignature,
    SignatureMalformed,
    UnsupportedAlgorithm,
)
from protocol.httpsig import sfv
from protocol.httpsig.digest import check_content_digest, content_digest_header
from protocol.httpsig.model import (
    Scheme,
    SignatureParams,
    VerifyPolicy,
    check_window,
    has_body,
    request_target,
)
from protocol.httpsig.rfc9421_canonical import (
    DERIVED,
    canonical_head,
    canonical_params,
)

if TYPE_CHECKING:
    from protocol.http import HttpRequest
    from protocol.keys import PublicKey, SigningKey

__all__ = ["parse", "sign", "signature_base", "verify"]

# alg -> the key type it needs (RFC 9421 §3.3.2, §3.3.6).
_ALGORITHMS = {"rsa-v1_5-sha256": "rsa", "ed25519": "ed25519"}
_ALG_FOR_KEY = {"rsa": "rsa-v1_5-sha256", "ed25519": "ed25519"}
_FIELD_PARAMS = frozenset({"sf", "key"})
# Fields whose structured type we know, for the "sf" parameter (RFC 9421 §2.1.1).
_DICTIONARY_FIELDS = frozenset({"content-digest", "signature-input", "signature"})
_RFC9421 = Scheme.RFC9421  # a module global is a cheaper lookup than the enum attribute


def parse(signature_input: str, signature: str) -> SignatureParams:
    """Read the first signature present in both fields (canonical input: the fast path)."""
    fast = _parse_canonical(signature_input, signature)
    return fast if fast is not None else _parse_general(signature_input, signature)


def _parse_canonical(signature_input: str, signature: str) -> SignatureParams | None:
    head, closed, tail = signature_input.partition(")")
    known = canonical_head(head) if closed else None
    if known is None:
        return None
    label, identifiers, names = known
    # Signature: exactly "label=:<base64>:" (the decoder checks the alphabet).
    if not signature.startswith(label + "=:") or signature.count(":") != 2 or signature[-1] != ":":
        return None
    params = canonical_params(tail)
    if params is None:
        return None
    raw = sfv.decode_base64(signature[len(label) + 2 : -1], "Signature")
    return _build(identifiers, names, params, raw, signature_input[len(label) + 1 :])


def _parse_general(signature_input: str, signature: str) -> SignatureParams:
    inputs = sfv.parse_dictionary(signature_input)
    signatures = sfv.parse_dictionary(signature)
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise SignatureMalformed("Signature-Input and Signature share no label")
    member, value = inputs[label], signatures[label]
    if not isinstance(member, sfv.InnerList):
        raise SignatureMalformed(f"Signature-Input {label} is not an inner list")
    if not isinstance(value, sfv.Item) or not isinstance(value.value, bytes):
        raise SignatureMalformed(f"Signature {label} is not a byte sequence")
    identifiers, names = _components(member)
    return _build(
        identifiers,
        names,
        dict(member.params),
        value.value,
        sfv.serialize_inner_list(member),
    )


def _components(member: sfv.InnerList) -> tuple[tuple[str, ...], tuple[str, ...]]:
    identifiers: list[str] = []
    names: list[str] = []
    for item in member.items:
        name = item.value
        if type(name) is not str or not name or name != name.lower():
            raise SignatureMalformed("a component identifier must be a lower-case string")
        if name[0] == "@" and name not in DERIVED:
            raise SignatureMalformed(f"component {name[:40]} is not supported for requests")
        allowed = _FIELD_PARAMS if name[0] != "@" else frozenset()
        if any(key not in allowed for key, _ in item.params):
            raise SignatureMalformed(f"component {name[:40]} has parameters we do not support")
        identifier = sfv.serialize_item(item)
        if identifier in identifiers:
            raise SignatureMalformed(f"component {identifier[:40]} is covered twice")
        identifiers.append(identifier)
        names.append(name)
    return tuple(identifiers), tuple(names)


def _build(
    identifiers: tuple[str, ...],
    names: tuple[str, ...],
    params: dict[str, sfv.BareItem],
    signature: bytes,
    signature_params: str,
) -> SignatureParams:
    key_id = params.get("keyid")
    if type(key_id) is not str or not key_id:
        raise SignatureMalformed("Signature-Input needs a keyid string")
    algorithm = params.get("alg")
    if algorithm is not None and (type(algorithm) is not str or algorithm not in _ALGORITHMS):
        raise UnsupportedAlgorithm(f"alg {str(algorithm)[:40]!r} is not one we verify")
    expires = params.get("expires")
    return SignatureParams(
        _RFC9421,
        key_id,
        algorithm,
        names,
        _timestamp(params.get("created"), "created"),
        None if expires is None else _timestamp(expires, "expires"),
        signature,
        identifiers,
        signature_params,
    )


def _timestamp(value: sfv.BareItem | None, name: str) -> datetime | None:
    if value is None:
        return None
    if type(value) is not int:
        raise SignatureMalformed(f"{name} must be an integer")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        raise SignatureMalformed(f"{name} is out of range") from None


def verify(
    request: HttpRequest,
    params: SignatureParams,
    key: PublicKey,
    now: datetime,
    policy: VerifyPolicy,
) -> datetime:
    """Check algorithm, coverage, time window, digest, then the signature; return created."""
    algorithm = params.algorithm
    if algorithm is not None and _ALGORITHMS.get(algorithm) != key.algorithm:
        raise UnsupportedAlgorithm(f"alg {algorithm[:40]!r} with an {key.algorithm} key")
    created = _check_coverage(params.covered, params.created, has_body(request))
    check_window(created, params.expires, now, policy)
    if "content-digest" in params.covered:
        check_content_digest(request.headers.get("content-digest"), request.body)
    key.verify(params.signature, signature_base(request, params))
    return created


def _check_coverage(covered: tuple[str, ...], created: datetime | None, body: bool) -> datetime:
    if (
        created is not None
        and "@method" in covered
        and ("@target-uri" in covered or ("@authority" in covered and "@path" in covered))
        and (not body or "content-digest" in covered)
    ):
        return created
    missing = [] if created is not None else ["the created parameter"]
    missing += [] if "@method" in covered else ["@method"]
    if "@target-uri" not in covered and not ("@authority" in covered and "@path" in covered):
        missing.append("@target-uri (or @authority and @path)")
    missing += ["content-digest"] if body and "content-digest" not in covered else []
    raise ComponentNotCovered(f"the signature must cover {', '.join(missing)}")


def signature_base(request: HttpRequest, params: SignatureParams) -> bytes:
    """The bytes RFC 9421 §2.5 signs: component lines, then ``@signature-params``."""
    lines = []
    for name, identifier in zip(params.covered, params.components, strict=True):
        value = _value(request, name, identifier)
        if "\n" in value or "\r" in value:
            raise InvalidSignature(f"component {name[:40]} contains a line break")
        lines.append(f"{identifier}: {value}")
    lines.append(f'"@signature-params": {params.signature_params}')
    try:
        return "\n".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidSignature("a covered component is not Latin-1 text") from None


def _value(request: HttpRequest, name: str, identifier: str) -> str:
    if name[0] == "@":
        return _derived(request, name)
    value = request.headers.get(name)
    if value is None:
        raise InvalidSignature(f"covered field {name[:40]} is missing from the request")
    if identifier[-1] == '"':  # no parameters
        return value
    return _structured(name, value, dict(sfv.parse_item(identifier).params))


def _derived(request: HttpRequest, name: str) -> str:
    # RFC 9421 §2.2: derived components of a request.
    if name == "@method":
        return request.method
    if name == "@target-uri":
        return request.url.partition("#")[0]
    if name == "@authority":
        return request.authority
    parts = urlsplit(request.url)
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    return request_target(request.url)  # @request-target


def _structured(name: str, value: str, params: dict[str, sfv.BareItem]) -> str:
    # RFC 9421 §2.1.1 (sf: re-serialise) and §2.1.2 (key: one dictionary member).
    if name not in _DICTIONARY_FIELDS:
        raise InvalidSignature(f"field {name[:40]} is not a structured field we know")
    try:
        members = sfv.parse_dictionary(value)
    except SignatureMalformed as exc:
        raise InvalidSignature(f"field {name[:40]} does not parse: {exc}") from None
    if "key" not in params:
        return sfv.serialize_dictionary(members)
    member = members.get(str(params["key"]))
    if member is None:
        raise InvalidSignature(f"field {name[:40]} has no member {str(params['key'])[:40]}")
    if isinstance(member, sfv.InnerList):
        return sfv.serialize_inner_list(member)
    return sfv.serialize_item(member)


def sign(
    request: HttpRequest,
    key: SigningKey,
    *,
    now: datetime,
    label: str = "sig1",
    expires_in: timedelta | None = None,
) -> dict[str, str]:
    """Headers to add: content-digest (with a body), signature-input, signature."""
    added = {}
    names = ["@method", "@target-uri"]
    if has_body(request):
        added["content-digest"] = content_digest_header(request.body)
        names.append("content-digest")
    if "content-type" in request.headers:
        names.append("content-type")
    created = int(now.timestamp())
    params: list[tuple[str, sfv.BareItem]] = [("created", created)]
    if expires_in is not None:
        params.append(("expires", created + int(expires_in.total_seconds())))
    params += [("keyid", key.id), ("alg", _ALG_FOR_KEY[key.algorithm])]
    inner = sfv.InnerList(tuple(sfv.Item(name) for name in names), tuple(params))
    parsed = SignatureParams(
        scheme=Scheme.RFC9421,
        key_id=key.id,
        algorithm=_ALG_FOR_KEY[key.algorithm],
        covered=tuple(names),
        created=None,
        expires=None,
        signature=b"",
        components=tuple(f'"{name}"' for name in names),
        signature_params=sfv.serialize_inner_list(inner),
    )
    signature = key.sign(signature_base(request.with_headers(added), parsed))
    added["signature-input"] = sfv.serialize_dictionary({label: inner})
    added["signature"] = sfv.serialize_dictionary({label: sfv.Item(signature)})
    return added
