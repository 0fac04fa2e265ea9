"""``policyidx check``: verify every file of an index against its manifest's checksums."""

from __future__ import annotations

import argparse
import sys

from .common import add_index_option, corpus_path, emit_json, index_path

HELP = "verify an index: every file's size and CRC32 against its manifest, and the bounds of every part"


def add_arguments(sp: argparse.ArgumentParser) -> None:
    add_index_option(sp, "index directory (default: $POLICYIDX_INDEX, else the default index)")


def run(args: argparse.Namespace) -> int:
    from ..errors import CorruptIndexError, PolicyIdxError
    from ..index import Index, default_index_path
    from ..index.store import staleness

    path = index_path(args) or default_index_path(corpus_path(args))
    try:
        idx = Index.from_snapshot(path)  # single or sharded
    except CorruptIndexError as exc:
        report = {"index": str(path), "snapshot": None, "files": None, "bytes": None, "problems": [str(exc)],
                  "stale": None}
    else:
        with idx:
            report = idx.check()
            try:
                report["stale"] = staleness(path, idx.manifest, corpus_path(args), None, index_path(args) is None)[0]
            except PolicyIdxError as exc:  # e.g. an unreadable catalog: not the index's fault
                report["stale"] = str(exc)
    if args.json:
        emit_json(report)
    else:
        for p in report["problems"]:
            print(p)
        if not report["problems"]:
            print(f"{report['index']}: snapshot {report['snapshot']}, {report['files']} files, "
                  f"{report['bytes'] / 1e6:.1f} MB: every checksum and bound is right")
        if report.get("stale"):
            print(f"stale: {report['stale']}")
    if report["problems"]:
        print(f"policyidx check: error: {len(report['problems'])} problem(s) in {report['index']}; rebuild the index "
              f"(`policyidx build --index {report['index']}`)", file=sys.stderr)
        return 2
    return 0
