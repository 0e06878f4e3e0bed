"""How much protocol.httpsig adds on top of the bare RSA operation it wraps.

The target (see protocol/httpsig): a full ``verify`` (parse, signing string,
digest, RSA verify) within 1.3x a bare ``cryptography`` RSA-2048
PKCS#1 v1.5/SHA-256 verify of the same bytes, and ``sign_cavage`` within 1.1x
a bare RSA sign. The PyPI ``httpsig`` 1.3.0 (pycryptodome) is timed alongside
for scale.

Method: one run, everything interleaved round by round so machine noise (other
processes, frequency changes) hits every contender alike; each round times a
batch of calls per contender; we report medians over rounds, and the median of
the per-round ratios. The signed requests cycle through 320 distinct inbox
POSTs (distinct Date, body, signature): more than protocol.httpsig's Date memo
holds, so every Date is parsed afresh (the pessimistic case; under load many
requests share a second). The bare contenders verify exactly the bytes ours
builds, in the same order.

To show where the overhead goes, the "no-op key" contenders run all of
``verify`` with the RSA operation replaced by a no-op. ours - bare - no-op is
what the Python work costs the RSA operation that follows it (caches and
branch predictors refilled), which a tight loop of bare verifies never pays.

Run: ``.venv/bin/python bench/httpsig_bench.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from itertools import cycle
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from protocol import httpsig, keys
from protocol.http import HttpRequest
from protocol.httpsig import rfc9421

if TYPE_CHECKING:
    from collections.abc import Callable

Contenders = dict[str, "Callable[[], object]"]

ACTOR = "https://coop.example/users/ana"
INBOX = "https://care.example/users/bob/inbox"
START = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
COUNT = 320  # > protocol.httpsig.httpdate's memo (256): no Date repeats from it
PKCS1 = padding.PKCS1v15()
SHA256 = hashes.SHA256()


def activity(index: int) -> bytes:
    """A typical Mastodon Create(Note), padded to 1.5 KB of JSON."""
    note = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": f"{ACTOR}/statuses/{index}/activity",
        "type": "Create",
        "actor": ACTOR,
        "published": "2025-03-01T12:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [f"{ACTOR}/followers"],
        "object": {
            "id": f"{ACTOR}/statuses/{index}",
            "type": "Note",
            "attributedTo": ACTOR,
            "content": "",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    }
    size = len(json.dumps(note).encode())
    note["object"]["content"] = "<p>" + "care " * ((1500 - size - 7) // 5) + "</p>"  # type: ignore[index]
    return json.dumps(note).encode().ljust(1500)


def inbox_post(index: int) -> HttpRequest:
    return HttpRequest.build(
        "POST",
        INBOX,
        {
            "Host": "care.example",
            "Content-Type": "application/activity+json",
            "User-Agent": "http.rb/5.2.0 (Mastodon/4.3.0; +https://coop.example/)",
            "Accept-Encoding": "gzip",
        },
        activity(index),
    )


Samples = dict[str, list[tuple[float, float]]]


def time_batch(function: Callable[[], object], calls: int) -> tuple[float, float]:
    """Microseconds per call for one batch: (wall clock, this thread's CPU time).

    CPU time leaves out the moments another process held the core, which on a
    shared machine is most of the noise; both are reported.
    """
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(calls):
        function()
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.thread_time() - cpu) / calls * 1e6,
    )


def run(contenders: Contenders, rounds: int, calls: int) -> Samples:
    results: Samples = {name: [] for name in contenders}
    gc.disable()
    try:
        for _ in range(rounds):
            for name, function in contenders.items():
                results[name].append(time_batch(function, calls))
    finally:
        gc.enable()
    return results


def ratio(results: Samples, name: str, baseline: str, which: int) -> float:
    """Median over rounds of (name / baseline) within the same round."""
    pairs = zip(results[name], results[baseline], strict=True)
    return statistics.median(ours[which] / base[which] for ours, base in pairs)


def report(title: str, results: Samples, baseline: str) -> None:
    print(f"\n{title}  (median of {len(results[baseline])} interleaved rounds)")
    print(f"  {'':34s} {'wall us':>9s} {'ratio':>6s}   {'cpu us':>9s} {'ratio':>6s}")
    for name, samples in results.items():
        wall = statistics.median(sample[0] for sample in samples)
        cpu = statistics.median(sample[1] for sample in samples)
        print(
            f"  {name:34s} {wall:9.1f} {ratio(results, name, baseline, 0):6.2f}"
            f"   {cpu:9.1f} {ratio(results, name, baseline, 1):6.2f}"
        )


def verify_contenders(key: keys.SigningKey) -> Contenders:
    public = key.public(ACTOR)
    raw: rsa.RSAPublicKey = public.key  # type: ignore[assignment]
    now = START + timedelta(seconds=COUNT // 2)
    cavage: list[HttpRequest] = []
    modern: list[HttpRequest] = []
    bare_cavage: list[tuple[bytes, bytes]] = []
    bare_modern: list[tuple[bytes, bytes]] = []
    for index in range(COUNT):
        request = inbox_post(index)
        moment = START + timedelta(seconds=index)
        signed = request.with_headers(httpsig.sign_cavage(request, key, now=moment))
        cavage.append(signed)
        params = httpsig.parse_signature(signed)
        headers = signed.headers
        text = (
            f"(request-target): post /users/bob/inbox\nhost: {headers['host']}\n"
            f"date: {headers['date']}\ndigest: {headers['digest']}\n"
            f"content-type: {headers['content-type']}"
        )
        bare_cavage.append((params.signature, text.encode()))
        signed = request.with_headers(httpsig.sign_rfc9421(request, key, now=moment))
        modern.append(signed)
        params = httpsig.parse_signature(signed)
        bare_modern.append((params.signature, rfc9421.signature_base(signed, params)))
    for request in (*cavage, *modern):  # every one verifies before we time anything
        httpsig.verify(request, httpsig.parse_signature(request), public, now=now)

    noop = keys.PublicKey(public.id, public.owner, _NoopKey())  # type: ignore[arg-type]
    noop_c, noop_m = cycle(cavage), cycle(modern)
    bare_c, bare_m = cycle(bare_cavage), cycle(bare_modern)
    ours_c, ours_m = cycle(cavage), cycle(modern)

    def bare_cavage_verify() -> None:
        signature, data = next(bare_c)
        raw.verify(signature, data, PKCS1, SHA256)

    def bare_rfc9421_verify() -> None:
        signature, data = next(bare_m)
        raw.verify(signature, data, PKCS1, SHA256)

    def our_cavage_verify() -> None:
        request = next(ours_c)
        httpsig.verify(request, httpsig.parse_signature(request), public, now=now)

    def our_rfc9421_verify() -> None:
        request = next(ours_m)
        httpsig.verify(request, httpsig.parse_signature(request), public, now=now)

    def noop_cavage_verify() -> None:
        request = next(noop_c)
        httpsig.verify(request, httpsig.parse_signature(request), noop, now=now)

    def noop_rfc9421_verify() -> None:
        request = next(noop_m)
        httpsig.verify(request, httpsig.parse_signature(request), noop, now=now)

    contenders: Contenders = {
        "bare RSA verify (cavage bytes)": bare_cavage_verify,
        "httpsig.verify, cavage": our_cavage_verify,
        "bare RSA verify (RFC 9421 bytes)": bare_rfc9421_verify,
        "httpsig.verify, RFC 9421": our_rfc9421_verify,
        "  cavage, no-op key (Python only)": noop_cavage_verify,
        "  RFC 9421, no-op key (Python only)": noop_rfc9421_verify,
    }
    contenders.update(pypi_verify(key, cavage))
    return contenders


class _NoopKey:
    """Stands in for the RSA key so the no-op contenders time only our Python."""

    def verify(self, *args: object) -> None:
        return None


def pypi_verify(key: keys.SigningKey, signed: list[HttpRequest]) -> Contenders:
    """PyPI httpsig 1.3.0 verifying the same cavage requests (if installed)."""
    try:
        import httpsig as pypi  # optional comparison only
    except ImportError:
        return {}
    pem = key.public(ACTOR).pem()
    requests = cycle(signed)

    def pypi_httpsig_verify() -> None:
        request = next(requests)
        verifier = pypi.HeaderVerifier(
            dict(request.headers),
            pem,
            required_headers=["(request-target)", "host", "date", "digest"],
            method="POST",
            path="/users/bob/inbox",
            sign_header="signature",
        )
        if not verifier.verify():
            raise AssertionError("httpsig (PyPI) rejected a valid signature")

    return {"PyPI httpsig 1.3.0 verify": pypi_httpsig_verify}


def sign_contenders(key: keys.SigningKey) -> Contenders:
    raw: rsa.RSAPrivateKey = key.key  # type: ignore[assignment]
    request = inbox_post(0)
    headers = request.with_headers(httpsig.sign_cavage(request, key, now=START)).headers
    text = (
        f"(request-target): post /users/bob/inbox\nhost: care.example\ndate: {headers['date']}\n"
        f"digest: {headers['digest']}\ncontent-type: application/activity+json"
    ).encode()
    contenders: Contenders = {
        "bare RSA sign": lambda: raw.sign(text, PKCS1, SHA256),
        "httpsig.sign_cavage": lambda: httpsig.sign_cavage(request, key, now=START),
        "httpsig.sign_rfc9421": lambda: httpsig.sign_rfc9421(request, key, now=START),
    }
    try:
        import httpsig as pypi  # optional comparison only
    except ImportError:
        return contenders
    signer = pypi.HeaderSigner(
        key.id,
        key.pem(),
        algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest", "content-type"],
        sign_header="signature",
    )
    pypi_headers = {k: v for k, v in headers.items() if k != "signature"}
    contenders["PyPI httpsig 1.3.0 sign"] = lambda: signer.sign(
        pypi_headers, method="POST", path="/users/bob/inbox"
    )
    return contenders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    key = keys.generate_rsa(f"{ACTOR}#main-key")
    verify = run(verify_contenders(key), args.rounds, calls=200)
    report(
        "verify (parse + checks + RSA), 1.5 KB inbox POST", verify, "bare RSA verify (cavage bytes)"
    )
    sign = run(sign_contenders(key), args.rounds, calls=10)
    report("sign, 1.5 KB inbox POST", sign, "bare RSA sign")
    print()
    for label, name, baseline, target in (
        ("verify cavage", "httpsig.verify, cavage", "bare RSA verify (cavage bytes)", 1.3),
        ("verify RFC 9421", "httpsig.verify, RFC 9421", "bare RSA verify (RFC 9421 bytes)", 1.3),
        ("sign_cavage", "httpsig.sign_cavage", "bare RSA sign", 1.1),
        ("sign_rfc9421", "httpsig.sign_rfc9421", "bare RSA sign", 1.1),
    ):
        results = verify if label.startswith("verify") else sign
        print(
            f"ratio {label:16s} wall x{ratio(results, name, baseline, 0):.2f}"
            f"  cpu x{ratio(results, name, baseline, 1):.2f}  (target {target})"
        )


if __name__ == "__main__":
    main()
