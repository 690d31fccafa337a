"""Domain tests run without Django: with VECHE_FORBID_DJANGO=1 importing it fails.

import-linter sees static imports only; this catches a dynamic import of Django (or of
the web layers) reaching the domain core while its tests run.
"""

import os
import sys

if os.environ.get("VECHE_FORBID_DJANGO") == "1":
    for name in ("django", "psycopg", "veche.apps", "veche.config", "veche.crypto"):
        # A None entry in sys.modules makes `import name` raise ImportError.
        sys.modules[name] = None  # type: ignore[assignment]
