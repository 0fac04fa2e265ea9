"""``python -m policyidx.web [--corpus DIR] [--index DIR] [--host H] [--port N]``."""

from __future__ import annotations

import sys

from .app import main

if __name__ == "__main__":
    sys.exit(main())
