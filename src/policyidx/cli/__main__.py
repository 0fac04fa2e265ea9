"""``python -m policyidx.cli``: the ``policyidx`` command."""

import sys

from .main import main

sys.exit(main())
