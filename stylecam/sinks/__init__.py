"""stylecam.sinks (see stylecam/__init__.py)."""
