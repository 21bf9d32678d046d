"""Command-line interface: thin click commands over the library (heavy imports inside)."""
