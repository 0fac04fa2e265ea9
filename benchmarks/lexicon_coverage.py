"""How much of the English and Japanese query vocabulary the dictionary lexicon covers.

For each content word of each English/Japanese query (English: words that are not stop words,
looked up as the longest gloss phrases; Japanese: MeCab tokens holding a kanji or katakana,
dictionary form, adjacent tokens merged when the lexicon knows the compound), counts:

- ``covered``: the lexicon has at least one Chinese rendering for it;
- ``in corpus``: at least one rendering occurs somewhere in the corpus text (what a keyword
  index can match);
- ``in gold``: one of the top renderings (at most 3, only those in the corpus) occurs in a gold
  clause of the query: the rendering would help find the answer.

It also times loading the lexicon in a fresh process and reports its size on disk::

    python benchmarks/realcorpus.py 2000 /tmp/real2000
    python benchmarks/lexicon_coverage.py --corpus /tmp/real2000 eval/real/real-en.jsonl eval/real/real-ja.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from policyidx.text.han import HAN_CLASS

_WS = re.compile(r"\s+")
_JA_CONTENT = re.compile(f"[{HAN_CLASS}\u30a1-\u30ff]")  # a kanji or a katakana letter


def _squash(s: str) -> str:
    return _WS.sub("", s)


def ja_words(query: str, lex) -> list[str]:
    """Content words of a Japanese query, dictionary forms, compounds merged by the lexicon."""
    from policyidx.text.analysis import tokenize

    toks = [t.norm for t in tokenize(query, "ja")]
    out, i = [], 0
    while i < len(toks):
        for n in (3, 2, 1):
            cand = "".join(toks[i : i + n])
            if n == 1 or (i + n <= len(toks) and lex.glosses_of(cand, "ja")):
                break
        if _JA_CONTENT.search(cand):
            out.append(cand)
        i += n
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", help="query sets (JSON lines)")
    p.add_argument("--corpus", help="corpus directory (default: the bundled corpus)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    t = time.perf_counter()
    # the lexicon's own load time (policyidx and numpy already imported), in a fresh process
    out = subprocess.run([sys.executable, "-c", "import time; from policyidx.text.lexicons import Lexicon; "
                          "t=time.perf_counter(); Lexicon.load(); print(time.perf_counter()-t)"], capture_output=True, text=True, check=True)
    load_s = float(out.stdout.strip().splitlines()[-1])
    from policyidx.corpus import Corpus
    from policyidx.text.lexicons import Lexicon, available_sources

    lex = Lexicon.load()
    corpus = Corpus.load(args.corpus)
    texts: dict[str, list[str]] = {d.id: [_squash(c.text) for c in d.clauses] for d in corpus}
    blob = "\n".join(t for ts in texts.values() for t in ts)
    in_corpus: dict[str, bool] = {}

    def keep(w: str) -> bool:
        if w not in in_corpus:
            in_corpus[w] = w in blob
        return in_corpus[w]

    stats: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = []
    for path in args.files:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            lang, split = q.get("lang"), q.get("split", "all")
            if lang not in ("en", "ja"):
                continue
            gold = [t for d, g in q["gold"] for t in texts.get(d, []) if _squash(g) in t]
            if lang == "en":
                words = [(p, [w for w, _ in c]) for p, c in lex.en_to(q["q"], "zh", limit=50)]
                plain = [w for w in re.findall(r"[a-z][a-z'-]*", q["q"].lower()) if w not in _stop()]
                covered_words = sum(len(p.split()) for p, _ in words)
                n_words = max(len(plain), covered_words)
            else:
                words = [(w, [c for c, _ in lex.translate(w, "ja", "zh", limit=50)]) for w in ja_words(q["q"], lex)]
                n_words = len(words)
            for key in ((lang, split), (lang, "all")):
                st = stats[key]
                st["queries"] += 1
                st["words"] += n_words
                for phrase, cands in words:
                    k = len(phrase.split()) if lang == "en" else 1
                    if cands:
                        st["covered"] += k
                    kept = [c for c in cands if keep(c)]
                    if kept:
                        st["in_corpus"] += k
                    if any(c in g for c in kept[:3] for g in gold):
                        st["in_gold"] += k
            rows.append({"q": q["q"], "split": split, "words": {p: [c for c in cands if keep(c)][:3] for p, cands in words}})
    res = {
        "sources": lex.manifest.get("sources", {}) or {k: s.name for k, s in available_sources().items()},
        "lexicon": {"zh_words": len(lex.zh.words), "ja_words": len(lex.ja.words), "glosses": len(lex.glosses),
                    "load_s_fresh_process": round(load_s, 3), "cache_bytes": (lex.folder / "lexicon.bin").stat().st_size if lex.folder else 0},
        "coverage": {f"{lang}/{split}": {k: v for k, v in st.items()} for (lang, split), st in sorted(stats.items())},
        "queries": rows,
        "seconds": round(time.perf_counter() - t, 1),
    }
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return 0
    lx = res["lexicon"]
    print(f"lexicon: {lx['zh_words']} zh words, {lx['ja_words']} ja words, {lx['glosses']} glosses; "
          f"{lx['npz_bytes'] / 1e6:.1f} MB on disk; load {lx['load_s_fresh_process']:.2f} s in a fresh process")
    print(f"{'set':10} {'queries':>7} {'words':>6} {'covered':>8} {'in corpus':>10} {'in gold':>8}")
    for key, st in res["coverage"].items():
        w = st["words"] or 1
        print(f"{key:10} {st['queries']:>7} {st['words']:>6} {st['covered'] / w:>8.2f} {st['in_corpus'] / w:>10.2f} {st['in_gold'] / w:>8.2f}")
    return 0


def _stop() -> frozenset[str]:
    from policyidx.text.lexicons import STOP

    return STOP


if __name__ == "__main__":
    sys.exit(main())
