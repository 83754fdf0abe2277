"""Station types: the base loop, the registry and the built-in families."""
