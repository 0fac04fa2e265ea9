"""The ``policyidx`` command (one module per subcommand; see :mod:`policyidx.cli.main`)."""

from .main import main

__all__ = ["main"]
