"""The Sharing Care node: a co-op's server in the federation."""
