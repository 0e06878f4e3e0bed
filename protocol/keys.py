"""Actor keys: generate, load once, sign, verify, and the forms actors publish.

Loading a PEM private key costs tens of milliseconds (RSA key checks), so the
node loads each key once into a :class:`SigningKey` and keeps it. Everything
here is pure: keys come in as bytes or strings and go out as objects or JSON.

Two published forms:

* Mastodon's ``publicKey`` (security/v1): ``{"id", "owner", "publicKeyPem"}``,
  RSA only in practice. https://docs.joinmastodon.org/spec/activitypub/#publicKey
* FEP-521a ``assertionMethod``: ``{"id", "type": "Multikey", "controller",
  "publicKeyMultibase"}``, base58btc of a multicodec-prefixed key.
  https://codeberg.org/fediverse/fep/src/branch/main/fep/521a/fep-521a.md
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from protocol.errors import InvalidSignature, KeyFormatError, KeyOwnerMismatch

__all__ = [
    "PublicKey",
    "RsaOrEd",
    "SigningKey",
    "check_key_owner",
    "generate_ed25519",
    "generate_rsa",
    "load_private_pem",
    "load_public_pem",
    "multikey_document",
    "public_key_document",
    "read_multikey",
    "read_public_key_document",
]

_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()

RsaOrEd = rsa.RSAPublicKey | ed25519.Ed25519PublicKey

# Multicodec prefixes (varint-encoded) used by FEP-521a / the Multikey spec.
_ED25519_PUB = b"\xed\x01"
_RSA_PUB = b"\x85\x24"  # 0x1205, rsa-pub: DER-encoded PKCS#1 RSAPublicKey
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A public key and who controls it.

    ``id`` is the key id a signature names (``https://coop.example/actor#main-key``);
    ``owner`` is the actor id that controls the key.
    """

    id: str
    owner: str
    key: RsaOrEd
    # Computed once: isinstance against cryptography's ABCs costs ~0.3 us a call,
    # and every inbound request asks (verify, then the algorithm checks).
    _kind: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kind = "ed25519" if isinstance(self.key, ed25519.Ed25519PublicKey) else "rsa"
        object.__setattr__(self, "_kind", kind)

    @property
    def algorithm(self) -> str:
        """``"rsa"`` or ``"ed25519"``."""
        return self._kind

    def verify(self, signature: bytes, data: bytes) -> None:
        """Raise :class:`InvalidSignature` unless ``signature`` signs ``data``.

        RSA keys check RSASSA-PKCS1-v1_5 with SHA-256, the only RSA scheme the
        fediverse uses (cavage ``rsa-sha256``/``hs2019``, RFC 9421 ``rsa-v1_5-sha256``).
        """
        try:
            if self._kind == "rsa":
                cast("rsa.RSAPublicKey", self.key).verify(signature, data, _PKCS1, _SHA256)
            else:
                cast("ed25519.Ed25519PublicKey", self.key).verify(signature, data)
        except _CryptoInvalidSignature:
            raise InvalidSignature("signature does not match the key") from None

    def pem(self) -> str:
        """SubjectPublicKeyInfo PEM, as ``publicKeyPem`` carries it."""
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A loaded private key with its key id. Load once, sign many times."""

    id: str
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

    @property
    def algorithm(self) -> str:
        """``"rsa"`` or ``"ed25519"``."""
        return "ed25519" if isinstance(self.key, ed25519.Ed25519PrivateKey) else "rsa"

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``: RSASSA-PKCS1-v1_5/SHA-256 for RSA, pure Ed25519 otherwise."""
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, _PKCS1, _SHA256)
        return self.key.sign(data)

    def public(self, owner: str) -> PublicKey:
        """The matching public key, controlled by ``owner``."""
        return PublicKey(id=self.id, owner=owner, key=self.key.public_key())

    def pem(self) -> str:
        """Unencrypted PKCS#8 PEM, for the node's key store."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")


def generate_rsa(key_id: str, bits: int = 2048) -> SigningKey:
    """A new RSA key (e = 65537), 2048 bits unless asked otherwise."""
    return SigningKey(key_id, rsa.generate_private_key(public_exponent=65537, key_size=bits))


def generate_ed25519(key_id: str) -> SigningKey:
    """A new Ed25519 key."""
    return SigningKey(key_id, ed25519.Ed25519PrivateKey.generate())


def load_private_pem(pem: str | bytes, key_id: str, *, trusted: bool = False) -> SigningKey:
    """Load a PEM private key (PKCS#1 or PKCS#8, RSA or Ed25519).

    ``trusted=True`` is for keys this node generated and stored itself: it skips
    OpenSSL's RSA consistency checks, which are most of the ~35-50 ms a load costs.
    Never pass it for a key that came from outside.
    """
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(
            data, password=None, unsafe_skip_rsa_key_validation=trusted
        )
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"private key PEM does not load: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise KeyFormatError(f"unsupported private key type {type(key).__name__}")
    return SigningKey(key_id, key)


def load_public_pem(pem: str | bytes, key_id: str, owner: str) -> PublicKey:
    """Load a PEM public key (SubjectPublicKeyInfo, or PKCS#1 ``RSA PUBLIC KEY``)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data.strip())
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"public key PEM does not load: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise KeyFormatError(f"unsupported public key type {type(key).__name__}")
    return PublicKey(id=key_id, owner=owner, key=key)


def public_key_document(key: PublicKey) -> dict[str, str]:
    """Mastodon's ``publicKey`` object for an actor document."""
    return {"id": key.id, "owner": key.owner, "publicKeyPem": key.pem()}


def multikey_document(key: PublicKey) -> dict[str, str]:
    """FEP-521a ``Multikey`` object for an actor's ``assertionMethod``."""
    if isinstance(key.key, ed25519.Ed25519PublicKey):
        raw = _ED25519_PUB + key.key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    else:
        raw = _RSA_PUB + key.key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )
    return {
        "id": key.id,
        "type": "Multikey",
        "controller": key.owner,
        "publicKeyMultibase": "z" + _b58encode(raw),
    }


def read_public_key_document(doc: Any) -> PublicKey:
    """Read Mastodon's ``publicKey`` form (``id``, ``owner``, ``publicKeyPem``)."""
    if not isinstance(doc, dict):
        raise KeyFormatError("publicKey is not an object")
    key_id, owner, pem = doc.get("id"), doc.get("owner"), doc.get("publicKeyPem")
    if not (isinstance(key_id, str) and isinstance(owner, str) and isinstance(pem, str)):
        raise KeyFormatError("publicKey needs string id, owner and publicKeyPem")
    return load_public_pem(pem, key_id, owner)


def read_multikey(doc: Any) -> PublicKey:
    """Read a FEP-521a ``Multikey`` (Ed25519 or RSA, base58btc ``z…``)."""
    if not isinstance(doc, dict):
        raise KeyFormatError("Multikey is not an object")
    key_id, controller, value = doc.get("id"), doc.get("controller"), doc.get("publicKeyMultibase")
    if not (isinstance(key_id, str) and isinstance(controller, str) and isinstance(value, str)):
        raise KeyFormatError("Multikey needs string id, controller and publicKeyMultibase")
    if not value.startswith("z"):
        raise KeyFormatError("publicKeyMultibase must be base58btc ('z' prefix)")
    raw = _b58decode(value[1:])
    key: RsaOrEd
    try:
        if raw.startswith(_ED25519_PUB) and len(raw) == 34:
            key = ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])
        elif raw.startswith(_RSA_PUB):
            loaded = serialization.load_der_public_key(_pkcs1_to_spki(raw[2:]))
            if not isinstance(loaded, rsa.RSAPublicKey):
                raise KeyFormatError("rsa-pub Multikey is not an RSA key")
            key = loaded
        else:
            raise KeyFormatError("Multikey is neither ed25519-pub nor rsa-pub")
    except ValueError as exc:
        raise KeyFormatError(f"Multikey does not load: {exc}") from None
    return PublicKey(id=key_id, owner=controller, key=key)


def check_key_owner(key: PublicKey, actor_id: str) -> None:
    """Raise :class:`KeyOwnerMismatch` unless ``actor_id`` controls ``key``.

    The key's stated owner must be the actor, and the key id must live on the
    actor's origin: ``actor#main-key`` (Mastodon) and ``actor/main-key``
    (GoToSocial) both pass; a key hosted elsewhere does not.
    """
    if key.owner != actor_id:
        raise KeyOwnerMismatch(f"key {key.id} is owned by {key.owner}, not {actor_id}")
    if _origin(key.id) != _origin(actor_id):
        raise KeyOwnerMismatch(f"key {key.id} is not on the origin of {actor_id}")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(_B58_ALPHABET[rem])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise KeyFormatError(f"not base58btc: {char!r}")
        number = number * 58 + _B58_INDEX[char]
    pad = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * pad + body


def _pkcs1_to_spki(pkcs1_der: bytes) -> bytes:
    """Wrap a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo (DER) so it loads."""
    # AlgorithmIdentifier: rsaEncryption OID 1.2.840.113549.1.1.1 with NULL params.
    algorithm = bytes.fromhex("300d06092a864886f70d0101010500")
    bit_string = b"\x03" + _der_length(len(pkcs1_der) + 1) + b"\x00" + pkcs1_der
    body = algorithm + bit_string
    return b"\x30" + _der_length(len(body)) + body


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded
