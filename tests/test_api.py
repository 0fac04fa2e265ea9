"""The public surface: lazy names, no heavy import at `import policyidx`."""

from __future__ import annotations

import subprocess
import sys


def test_import_does_no_heavy_work():
    code = "import sys, policyidx; print(sorted(m for m in ('torch', 'sentence_transformers', 'faiss', 'jieba', 'fugashi') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_public_names_are_functions_and_classes_even_after_submodule_imports():
    import policyidx
    import policyidx.alignment  # noqa: F401  (a submodule import must not shadow policyidx.align)
    import policyidx.concordance  # noqa: F401

    assert callable(policyidx.align) and policyidx.align.__module__.startswith("policyidx.alignment")
    assert callable(policyidx.terms) and policyidx.terms.__module__ == "policyidx.concordance"
    assert set(policyidx.__all__) <= set(dir(policyidx))
    for name in policyidx.__all__:
        assert getattr(policyidx, name) is not None
