"""The version of this plugins package (the one place it is written; setup.py reads it)."""

__version__ = "0.3.0.dev0"
