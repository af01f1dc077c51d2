"""stylecam.ui (see stylecam/__init__.py)."""
