"""The style trainer (see training/train.py)."""
