"""``python -m policyidx.bench``: the benchmark at scale (same as ``policyidx bench``)."""

import sys

from .scale import main

sys.exit(main())
