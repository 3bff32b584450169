"""``python -m symphony_dash``: the same command line as ``symphony-dash``."""

from .cli import main

raise SystemExit(main())
