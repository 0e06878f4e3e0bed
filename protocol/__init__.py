"""ActivityPub for Sharing Care, without I/O.

Signatures, keys, discovery, ActivityStreams parsing and serialisation, and the
Sharing Care vocabulary. The node hands this package bytes, keys and the clock;
it never opens a socket, reads a file at run time or looks at a clock itself.
"""
