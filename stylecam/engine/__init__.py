"""stylecam.engine (see stylecam/__init__.py)."""
