"""Subcommands of the ``stylecam`` CLI, one module each (``add_parser`` + ``main``)."""
