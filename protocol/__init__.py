"""ActivityPub for Sharing Care, without I/O.

The node hands this package bytes, keys and the clock; it never opens a socket,
reads a file at run time (beyond its own vendored contexts) or looks at a clock.

Modules, along the path of a request:

* ``http``: the plain request description (method, URL, headers, body).
* ``httpsig``: HTTP Signatures, draft-cavage and RFC 9421, with body digests.
* ``keys``: RSA and Ed25519 keys; Mastodon ``publicKey`` and FEP-521a Multikey forms.
* ``safety``: URL (SSRF) checks, size limits, strict JSON decoding.
* ``parse`` → ``objects`` → ``serialize``: untrusted AS2 JSON in, frozen objects, JSON out.
* ``vocab``, ``contexts``: ActivityStreams and Sharing Care terms, vendored JSON-LD contexts.
* ``audience``, ``collections``: addressing, and paged ordered collections.
* ``webfinger``, ``nodeinfo``: discovery.
* ``sanitize``: HTML cleaned to what Mastodon keeps.
* ``errors``: the one error tree.
"""

__all__: list[str] = []
