"""stylecam.pipeline (see stylecam/__init__.py)."""
