"""stylecam.video (see stylecam/__init__.py)."""
