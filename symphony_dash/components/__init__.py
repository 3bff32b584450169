"""The built-in components, one module each. Importing this package registers them."""

from . import histogram

__all__ = ["histogram"]
