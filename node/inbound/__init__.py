"""HTTP in, after the web layer: verify the signature, take the activity in, dispatch it."""
