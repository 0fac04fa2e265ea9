"""The alignment benchmark: :func:`bench_align` on two synthetic long documents
(``python -m policyidx.bench.align --bench``)."""

from __future__ import annotations

import sys
import time
from typing import Any, Iterable

import numpy as np

from ..errors import QueryError
from ..model import Document
from ..text.han import unify

from ..alignment.aligner import align
from ..alignment.records import AlignmentError
from ..alignment.signals import _content_length

# --------------------------------------------------------------------------- bench


def _synthetic_document(doc_id: str, lang: str, clauses: list[tuple[int, list[str]]], flat: bool) -> Document:
    """A document whose clauses (numbered as given) hold the given sentences, or one clause."""
    from ..model import Clause as _Clause
    from ..model import Sentence as _Sentence

    groups = [(1, [x for _, group in clauses for x in group])] if flat else clauses
    text_parts: list[str] = []
    pos = 0
    roots: list[_Clause] = []
    for number, group in groups:
        start = pos
        sents: list[_Sentence] = []
        cid = f"{doc_id}#{number}"
        for k, sentence in enumerate(group, start=1):
            sents.append(_Sentence(id=f"{cid}/{k}", clause=cid, start=pos, end=pos + len(sentence), text=sentence))
            text_parts.append(sentence)
            pos += len(sentence)
        body = "".join(group)
        roots.append(
            _Clause(id=cid, doc=doc_id, path=(number,), label=f"{number}.", title=None, text=body, start=start,
                    end=pos, label_start=start, kind="section", lang=lang, sentences=tuple(sents))
        )
        text_parts.append("\n")
        pos += 1
    return Document(id=doc_id, work="bench", lang=lang, role="original", title="bench", text="".join(text_parts), roots=roots)


def bench_align(n: int = 2000, *, flat: bool = False, encoder: str | None = "builtin", seed: int = 0, out: Any = None) -> dict[str, float]:
    """Time :func:`align` on two synthetic documents of about ``n`` sentences each.

    The source is built from the sentences of the bundled corpus (Chinese and Japanese
    texts, repeated to reach ``n``), grouped in clauses of 2-8 sentences numbered 1, 2, ...
    The target is a perturbed copy whose true alignment is known: 2% of clauses dropped,
    numbering gaps after 5% of clauses (every later clause is renumbered), and inside the
    clauses 3% of sentences dropped, 3% of neighbouring pairs merged into one sentence and
    2% extra sentences.  With ``flat=True`` each document is a single clause, so all the
    work falls on the sentence level (the worst case).

    Parameters
    ----------
    n : int
        Sentences in the source document.
    flat : bool
        One clause per document instead of clauses of 2-8 sentences.
    encoder : {"builtin", None}
        ``"builtin"`` fits a builtin encoder on the two documents (timed separately as
        ``fit_s``) and aligns with it; ``None`` aligns with the text signals only.
    seed : int
        Seed of the perturbations.
    out : file, optional
        Where to print the figures (default ``sys.stdout``).

    Returns
    -------
    dict
        ``n_src``, ``n_tgt``, ``fit_s``, ``align_s``, ``total_s``, and ``precision`` /
        ``recall`` of the sentence links against the known truth.
    """
    from ..corpus import Corpus

    rng = np.random.default_rng(seed)
    corpus = Corpus.load()
    pool = [s.text for d in corpus for c in d.clauses for s in c.sentences if _content_length(s.text) >= 8]
    if not pool:
        raise AlignmentError("the bundled corpus has no sentences to build the benchmark from")
    src_clauses: list[tuple[int, list[str]]] = []
    tgt_clauses: list[tuple[int, list[str]]] = []
    truth: set[tuple[int, int]] = set()  # (source sentence row, target sentence row)
    row_a = row_b = 0
    number_b = 0
    while row_a < n:
        size = min(int(rng.integers(2, 9)), n - row_a)
        group = [pool[(row_a + k) % len(pool)] for k in range(size)]
        src_clauses.append((len(src_clauses) + 1, group))
        rows = list(range(row_a, row_a + size))
        row_a += size
        if rng.random() < 0.02:
            continue
        out_group: list[str] = []
        k = 0
        while k < size:
            r = rng.random()
            if r < 0.03:
                k += 1
                continue
            if r < 0.06 and k + 1 < size:
                out_group.append(group[k] + group[k + 1])
                truth.update({(rows[k], row_b), (rows[k + 1], row_b)})
                row_b += 1
                k += 2
                continue
            out_group.append(group[k])
            truth.add((rows[k], row_b))
            row_b += 1
            if r > 0.98:
                out_group.append(pool[int(rng.integers(len(pool)))])
                row_b += 1
            k += 1
        if not out_group:
            continue
        number_b += 2 if rng.random() < 0.05 else 1
        tgt_clauses.append((number_b, out_group))
    src_doc = _synthetic_document("bench-src.zh", "zh", src_clauses, flat)
    tgt_doc = _synthetic_document("bench-tgt.ja", "ja", tgt_clauses, flat)
    row_of_a = {s.id: k for k, s in enumerate(s for c in src_doc.clauses for s in c.sentences)}
    row_of_b = {s.id: k for k, s in enumerate(s for c in tgt_doc.clauses for s in c.sentences)}
    from ..text.glossary import Glossary

    gl = Glossary.load()
    gl.find_in("专利", "zh")  # build the glossary's index outside the timing
    unify("专利")
    t0 = time.perf_counter()
    enc = None
    if encoder == "builtin":
        from ..retrieval.encoders import BuiltinEncoder

        texts = sorted({s.text for d in (src_doc, tgt_doc) for c in d.clauses for s in c.sentences})
        enc = BuiltinEncoder().fit(texts, dim=128, words=False, max_features=32_768)
    elif encoder is not None:
        raise QueryError(f"bench_align() knows encoder='builtin' or None, got {encoder!r}")
    t1 = time.perf_counter()
    al = align(src_doc, tgt_doc, encoder=enc, glossary=gl)
    t2 = time.perf_counter()
    links = {(row_of_a[x], row_of_b[y]) for x, y in al.links()}
    correct = len(links & truth)
    figures = {
        "n_src": float(row_a),
        "n_tgt": float(row_b),
        "fit_s": t1 - t0,
        "align_s": t2 - t1,
        "total_s": t2 - t0,
        "precision": correct / len(links) if links else 0.0,
        "recall": correct / len(truth) if truth else 0.0,
    }
    stream = out or sys.stdout
    print(
        f"bench_align: {row_a} x {row_b} sentences ({'flat' if flat else f'{len(src_clauses)} x {len(tgt_clauses)} clauses'}), "
        f"encoder={encoder}: fit {figures['fit_s']:.2f} s, align {figures['align_s']:.2f} s, "
        f"total {figures['total_s']:.2f} s; links P={figures['precision']:.3f} R={figures['recall']:.3f}",
        file=stream,
    )
    return figures


def _main(argv: Iterable[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m policyidx.bench.align", description="Alignment benchmark.")
    parser.add_argument("--bench", action="store_true", help="time align() on two synthetic long documents")
    parser.add_argument("-n", type=int, default=2000, help="sentences per document (default 2000)")
    parser.add_argument("--flat", action="store_true", help="one clause per document (worst case)")
    parser.add_argument("--no-encoder", action="store_true", help="text signals only")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not args.bench:
        parser.print_help()
        return 2
    bench_align(args.n, flat=args.flat, encoder=None if args.no_encoder else "builtin")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
