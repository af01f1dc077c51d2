"""stylecam.snapshot (see stylecam/__init__.py)."""
