"""policyidx: clause-level search and alignment for Chinese policy documents and their
Japanese translations."""

__version__ = "0.1.0"
