"""The wheel built from the repository carries the bundled corpus and the data files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_corpus_and_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("policyidx-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    corpus = {f"policyidx/bundled_corpus/{p.relative_to(ROOT / 'corpus').as_posix()}"
              for p in (ROOT / "corpus").rglob("*") if p.is_file()}
    assert corpus and corpus <= names
    assert {"policyidx/data/glossary.tsv", "policyidx/data/vocab.tsv", "policyidx/data/userdict.tsv"} <= names
