"""Every error `protocol` raises, as one tree.

Callers catch the narrowest class they can act on; the node turns each into an
HTTP status in one place. Every class subclasses ``Exception`` (never
``BaseException``) so ordinary handlers see it.

    ProtocolError
    ├── ParseError                  untrusted JSON did not fit (names the JSON path)
    ├── SignatureError              an HTTP signature was not acceptable
    │   ├── SignatureMissing        no Signature / Signature-Input header
    │   ├── SignatureMalformed      a header does not parse
    │   ├── UnsupportedAlgorithm    an algorithm we do not verify
    │   ├── ComponentNotCovered     a required header/component is not signed
    │   ├── SignatureExpired        Date/created too far from now, or past expiry
    │   ├── DigestMismatch          Digest / Content-Digest missing or wrong
    │   └── InvalidSignature        the cryptographic check failed
    ├── KeyFormatError              a key (PEM, Multikey, JWK-ish) cannot be read
    ├── KeyOwnerMismatch            a key id does not belong to the actor claiming it
    ├── WebFingerError              a handle or a JRD is unusable
    ├── UnsafeURL                   a URL we must not fetch or deliver to
    └── TooLarge                    input over a size limit
"""

from __future__ import annotations

__all__ = [
    "ComponentNotCovered",
    "DigestMismatch",
    "InvalidSignature",
    "KeyFormatError",
    "KeyOwnerMismatch",
    "ParseError",
    "ProtocolError",
    "SignatureError",
    "SignatureExpired",
    "SignatureMalformed",
    "SignatureMissing",
    "TooLarge",
    "UnsafeURL",
    "UnsupportedAlgorithm",
    "WebFingerError",
]


class ProtocolError(Exception):
    """Base class: something received or requested breaks a protocol rule.

    ``str(error)`` is safe to show to the remote party: it names the rule, never
    a secret. Subclasses may carry structured detail as attributes.
    """


class ParseError(ProtocolError):
    """Untrusted JSON does not fit the shape we accept.

    ``path`` is a JSON path such as ``$.object.attributedTo[0]``.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class SignatureError(ProtocolError):
    """An HTTP signature (draft-cavage or RFC 9421) is not acceptable."""


class SignatureMissing(SignatureError):
    """The request carries no signature at all."""


class SignatureMalformed(SignatureError):
    """A signature header is present but does not parse."""


class UnsupportedAlgorithm(SignatureError):
    """The signature names an algorithm, or a key type, we do not verify."""


class ComponentNotCovered(SignatureError):
    """A header or derived component we require is not covered by the signature."""


class SignatureExpired(SignatureError):
    """The signature's time (Date or ``created``) is outside the accepted window."""


class DigestMismatch(SignatureError):
    """The body digest (``Digest`` or ``Content-Digest``) is missing or wrong."""


class InvalidSignature(SignatureError):
    """The cryptographic verification failed: wrong key or tampered request."""


class KeyFormatError(ProtocolError):
    """A key cannot be decoded (bad PEM, bad Multikey, unsupported key type)."""


class KeyOwnerMismatch(ProtocolError):
    """A key id is not controlled by the actor that claims it."""


class WebFingerError(ProtocolError):
    """A WebFinger handle or JRD document is unusable."""


class UnsafeURL(ProtocolError):
    """A URL we must not fetch or deliver to (scheme, userinfo, private address)."""


class TooLarge(ProtocolError):
    """Input is over a size limit."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"{what} is {size} bytes, over the limit of {limit}")
        self.size = size
        self.limit = limit
