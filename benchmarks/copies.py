"""Write a corpus of K copies of the bundled corpus, for timing ``policyidx build`` on real documents.

Each copy gets its own work and document ids (``w00042-cnipa-2022-38.ja``...) and also the
Chinese original of zgc-2019-ipap from the test fixtures, so that every copy has one
original/translation pair to align.  Usage::

    python benchmarks/copies.py 200 /tmp/c200
    policyidx build --corpus /tmp/c200 --index /tmp/i200 --json
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_copies(k: int, out: Path) -> int:
    """Write ``k`` copies under ``out`` (replaced if it exists); returns the number of documents."""
    src = ROOT / "corpus"
    catalog = tomllib.loads((src / "catalog.toml").read_text(encoding="utf-8"))
    original = {"id": "zgc-2019-ipap.zh", "work": "zgc-2019-ipap", "lang": "zh", "role": "original",
                "title": "中关村国家自主创新示范区知识产权行动方案（2019-2021年）",
                "file": str(ROOT / "tests" / "fixtures" / "zh" / "zgc-2019-ipap.zh.txt"), "format": "text"}
    documents = list(catalog["document"]) + [original]
    if out.exists():
        shutil.rmtree(out)
    (out / "docs").mkdir(parents=True)
    lines: list[str] = []
    for i in range(k):
        prefix = f"w{i:05d}-"
        for work in catalog["work"]:
            lines.append("[[work]]")
            lines += [f"{key} = {_toml(prefix + v if key == 'id' else v)}" for key, v in work.items()]
            lines.append("")
        for doc in documents:
            lines.append("[[document]]")
            for key, v in doc.items():
                if key in ("id", "work"):
                    v = prefix + v
                elif key == "file":
                    name = f"docs/{prefix}{Path(v).name}"
                    shutil.copyfile(src / v if not Path(v).is_absolute() else v, out / name)
                    v = name
                lines.append(f"{key} = {_toml(v)}")
            lines.append("")
    (out / "catalog.toml").write_text("\n".join(lines), encoding="utf-8")
    return k * len(documents)


if __name__ == "__main__":
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python benchmarks/copies.py K OUT_DIR")
    print(f"{write_copies(int(sys.argv[1]), Path(sys.argv[2]))} documents written to {sys.argv[2]}")
