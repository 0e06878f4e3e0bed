"""Keys: generation, PEM round trips, the two published forms, owner checks."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from protocol import keys
from protocol.errors import InvalidSignature, KeyFormatError, KeyOwnerMismatch

ACTOR = "https://coop.example/coop"


@pytest.fixture(scope="module")
def rsa_key() -> keys.SigningKey:
    return keys.generate_rsa(f"{ACTOR}#main-key")


@pytest.fixture(scope="module")
def ed_key() -> keys.SigningKey:
    return keys.generate_ed25519(f"{ACTOR}#ed25519-key")


def test_rsa_is_2048_bits_with_the_usual_exponent(rsa_key: keys.SigningKey) -> None:
    public = rsa_key.public(ACTOR).key
    assert rsa_key.algorithm == "rsa"
    assert public.key_size == 2048  # type: ignore[union-attr]
    assert public.public_numbers().e == 65537  # type: ignore[union-attr]


@pytest.mark.parametrize("which", ["rsa_key", "ed_key"])
def test_sign_verify_round_trip_and_one_byte_tamper(
    which: str, request: pytest.FixtureRequest
) -> None:
    key: keys.SigningKey = request.getfixturevalue(which)
    public = key.public(ACTOR)
    signature = key.sign(b"hello co-ops")

    public.verify(signature, b"hello co-ops")
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"hello co-opz")
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(InvalidSignature):
        public.verify(tampered, b"hello co-ops")


@pytest.mark.parametrize("which", ["rsa_key", "ed_key"])
def test_private_pem_round_trip(which: str, request: pytest.FixtureRequest) -> None:
    key: keys.SigningKey = request.getfixturevalue(which)
    loaded = keys.load_private_pem(key.pem(), key.id)
    assert loaded.pem() == key.pem()
    assert loaded.algorithm == key.algorithm
    # A signature from the reloaded key verifies with the original public key.
    key.public(ACTOR).verify(loaded.sign(b"x"), b"x")


def test_pkcs1_private_and_public_pem_load(rsa_key: keys.SigningKey) -> None:
    pkcs1 = rsa_key.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert keys.load_private_pem(pkcs1, rsa_key.id).pem() == rsa_key.pem()
    pub_pkcs1 = rsa_key.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    assert keys.load_public_pem(pub_pkcs1, rsa_key.id, ACTOR).pem() == rsa_key.public(ACTOR).pem()


@pytest.mark.parametrize("pem", ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END"])
def test_bad_pem_is_a_key_format_error(pem: str) -> None:
    with pytest.raises(KeyFormatError):
        keys.load_public_pem(pem, "k", ACTOR)
    with pytest.raises(KeyFormatError):
        keys.load_private_pem(pem, "k")


def test_mastodon_public_key_document_round_trip(rsa_key: keys.SigningKey) -> None:
    public = rsa_key.public(ACTOR)
    document = keys.public_key_document(public)

    assert document == {"id": f"{ACTOR}#main-key", "owner": ACTOR, "publicKeyPem": public.pem()}
    assert keys.read_public_key_document(document) == public


@pytest.mark.parametrize(
    "document",
    [
        None,
        "https://coop.example/key",
        {"id": "k", "owner": ACTOR},
        {"id": 1, "owner": ACTOR, "publicKeyPem": "x"},
    ],
)
def test_unusable_public_key_documents(document: object) -> None:
    with pytest.raises(KeyFormatError):
        keys.read_public_key_document(document)


@pytest.mark.parametrize(("which", "prefix"), [("rsa_key", "z4MX"), ("ed_key", "z6Mk")])
def test_multikey_round_trip(which: str, prefix: str, request: pytest.FixtureRequest) -> None:
    key: keys.SigningKey = request.getfixturevalue(which)
    public = key.public(ACTOR)
    document = keys.multikey_document(public)

    # FEP-521a: Ed25519 multikeys start z6Mk, RSA (rsa-pub 0x1205) ones z4MX.
    assert document["type"] == "Multikey"
    assert document["controller"] == ACTOR
    assert document["publicKeyMultibase"].startswith(prefix)
    assert keys.read_multikey(document) == public


def test_fep_521a_example_ed25519_multikey_decodes() -> None:
    # FEP-521a's example key is the W3C vc-di-eddsa test key pair: its public half must
    # be the key derived from the published secret (ed25519-priv multikey, 0x1300).
    document = {
        "id": "https://server.example/users/alice#ed25519-key",
        "type": "Multikey",
        "controller": "https://server.example/users/alice",
        "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    }
    key = keys.read_multikey(document)
    raw = key.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    secret = keys._b58decode("3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    assert secret[:2] == b"\x80\x26"
    derived = ed25519.Ed25519PrivateKey.from_private_bytes(secret[2:]).public_key()
    assert raw == derived.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.mark.parametrize(
    "value",
    ["6Mkabc", "z0OIl", "z1111", "z" + "2" * 40],
)
def test_bad_multikeys(value: str) -> None:
    document = {"id": "k", "controller": ACTOR, "publicKeyMultibase": value}
    with pytest.raises(KeyFormatError):
        keys.read_multikey(document)


def test_key_owner_checks(rsa_key: keys.SigningKey) -> None:
    keys.check_key_owner(rsa_key.public(ACTOR), ACTOR)
    # GoToSocial's key ids have no fragment: same origin, so accepted.
    gts = keys.PublicKey(f"{ACTOR}/main-key", ACTOR, rsa_key.public(ACTOR).key)
    keys.check_key_owner(gts, ACTOR)

    with pytest.raises(KeyOwnerMismatch, match="owned by"):
        keys.check_key_owner(rsa_key.public("https://evil.example/x"), ACTOR)
    elsewhere = keys.PublicKey("https://evil.example/k", ACTOR, rsa_key.public(ACTOR).key)
    with pytest.raises(KeyOwnerMismatch, match="origin"):
        keys.check_key_owner(elsewhere, ACTOR)


def test_trusted_load_of_our_own_key_signs_the_same(rsa_key: keys.SigningKey) -> None:
    loaded = keys.load_private_pem(rsa_key.pem(), rsa_key.id, trusted=True)
    assert loaded.sign(b"same") == rsa_key.sign(b"same")  # PKCS#1 v1.5 is deterministic


def test_public_key_kind_follows_a_replaced_key(
    rsa_key: keys.SigningKey, ed_key: keys.SigningKey
) -> None:
    # The algorithm is computed once per PublicKey; replace() must recompute it.
    public = rsa_key.public(ACTOR)
    swapped = dataclasses.replace(public, key=ed_key.public(ACTOR).key)
    assert (public.algorithm, swapped.algorithm) == ("rsa", "ed25519")
    assert swapped != public
    signature = ed_key.sign(b"data")
    swapped.verify(signature, b"data")
