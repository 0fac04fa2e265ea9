"""Benchmarks, outside the core import path: nothing in policyidx imports this package but
``policyidx bench`` (lazily).  ``scale``: the benchmark at scale against bm25s, rank_bm25 and
exact FAISS; ``align``: the alignment benchmark; ``fuzz``: fuzzing the parsers (``python -m policyidx.bench.fuzz``)."""
