"""Built-in corpora (the synthetic connected-digits corpus)."""
