"""The workbench application: a Starlette app over the policyidx API, Jinja2 templates.

Every page is rendered on the server with autoescaping; the only script is
``static/app.js`` (dialogs, in-page filter), served from the package.  Routes:

``/``                       search (query, mode, language, documents, works, roles)
``/docs``                   the documents of the corpus
``/doc/<doc>``              a document: metadata, clause tree, a permalink per clause
``/doc/<doc>/goto?c=…``     navigation by citation (``第十二条``, ``（六）``, ``3.2``)
``/clause/<doc>/<path>``    one clause in context with its counterparts
``/align/<src>/<tgt>``      side by side with review controls; ``…/export/<fmt>``
``/match?a=…&b=…``          provisions of one document matched to another
``/term?q=…``               glossary entries and a keyword-in-context concordance
``/files``                  ad hoc alignment of two uploaded files
"""

from __future__ import annotations

import argparse
import hmac
import os
import re
import secrets
import sys
import tempfile
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence
from urllib.parse import quote, urlsplit

from ..errors import MissingDependencyError, PolicyIdxError

try:
    import jinja2
    from markupsafe import Markup, escape
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, RedirectResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError(f'the web workbench needs the web extra ({exc.name} is missing): pip install "policyidx[web]"') from None

if TYPE_CHECKING:  # pragma: no cover
    from ..alignment import Alignment, ClausePair
    from ..corpus import Corpus
    from ..index import Index
    from ..model import Clause, Document
    from ..review import ReviewStore

__all__ = ["Workbench", "create_app", "serve", "main"]

HERE = Path(__file__).resolve().parent
#: Default limit of one upload request (two files together).
UPLOAD_LIMIT = 20 * 1024 * 1024
#: How many ad hoc alignments a server keeps in memory.
MAX_UPLOADS = 16
EXPORTS = {
    "tsv": ("text/tab-separated-values; charset=utf-8", "to_tsv"),
    "tmx": ("application/x-tmx+xml", "to_tmx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "to_xlsx"),
    "html": ("text/html; charset=utf-8", "to_html"),
}
_HTML_LANG = {"zh": "zh-Hans", "ja": "ja", "en": "en"}
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


# ----------------------------------------------------------------------------- text helpers


def anchor(clause_id: str) -> str:
    """The ``id=`` of a clause on a page (the one the HTML export uses)."""
    from ..export import clause_anchor

    return clause_anchor(clause_id)


def marked(text: str, spans: Sequence[tuple[int, int, Markup, Markup]]) -> Markup:
    """``text`` escaped, with ``open``/``close`` markup around each ``(start, end)`` span
    (overlapping spans after the first are dropped)."""
    out: list[Any] = []
    pos = 0
    for s, e, open_, close in sorted(spans, key=lambda x: (x[0], -x[1])):
        if s < pos or e <= s or e > len(text):
            continue
        out.append(escape(text[pos:s]))
        out.append(open_ + escape(text[s:e]) + close)
        pos = e
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def highlight(text: str, spans: Sequence[tuple[int, int]], cls: str = "hl") -> Markup:
    """``text`` escaped with ``<mark>`` around each span."""
    m = Markup('<mark class="%s">') % cls
    return marked(text, [(s, e, m, Markup("</mark>")) for s, e in spans])


def body_text(clause: Clause) -> str:
    """A clause's text without its title line (shown as the heading)."""
    text = clause.text
    if clause.title and text.startswith(clause.title):
        text = text[len(clause.title):]
    return text.strip()


def _norm_label(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).strip()
    return re.sub(r"[\s、，,．.。:：]+$", "", s)


def find_clause(doc: Document, citation: str) -> list[Clause]:
    """Clauses of ``doc`` a citation names: a path (``3.2.6``), a printed label
    (``第十二条``, ``（六）``, ``一、``), or a label path (``三（二）``); best match first."""
    c = citation.strip()
    if not c:
        return []
    c = c.split("#", 1)[-1] if "#" in c else c
    if re.fullmatch(r"\d+(?:\.\d+)*", c):
        cid = f"{doc.id}#{c}"
        return [doc.clause(cid)] if cid in doc else []
    want = _norm_label(c)
    exact = [cl for cl in doc.clauses if cl.label and _norm_label(cl.label) == want]
    if exact:
        return exact
    # a chain of labels, outermost first: 三（二） = （二） under 三、
    squash = re.compile(r"[\s、，,．.。:：]+")
    want_chain = squash.sub("", want)
    chains = []
    for cl in doc.clauses:
        labels = "".join(squash.sub("", _norm_label(a.label)) for a in [*cl.ancestors(), cl] if a.label)
        if labels and labels == want_chain:
            chains.append(cl)
    return chains


# ----------------------------------------------------------------------------- the workbench


@dataclass
class _Upload:
    """An ad hoc alignment of two uploaded files, with its own review store."""

    token: str
    src: Document
    tgt: Document
    auto: Alignment
    store: ReviewStore


class Workbench:
    """What the web application serves: an index, its corpus, the review store, uploads.

    Parameters
    ----------
    corpus : Corpus, path or None
        The corpus (default: ``$POLICYIDX_CORPUS`` or the bundled corpus).
    index : path or Index, optional
        The index directory (default: the corpus's default index, built when missing).
    upload_limit : int
        Largest accepted upload request, in bytes.
    """

    def __init__(self, corpus: Corpus | str | os.PathLike[str] | None = None, index: Index | str | os.PathLike[str] | None = None,
                 *, upload_limit: int = UPLOAD_LIMIT) -> None:
        from ..index import Index as _Index

        if corpus is None and os.environ.get("POLICYIDX_CORPUS"):
            corpus = os.environ["POLICYIDX_CORPUS"]
        if index is not None and not isinstance(index, (str, os.PathLike)):
            self.index = index  # an opened Index, or a ShardedIndex searched on a Dask cluster
        else:  # no corpus: the one the index was built from (the bundled corpus for the default index)
            self.index = _Index.open(None if index is None else Path(index),
                                     corpus=Path(corpus) if isinstance(corpus, (str, os.PathLike)) else corpus)
        self.corpus = self.index.corpus
        self.review = self.index.review_store
        self.upload_limit = upload_limit
        self.secret = secrets.token_bytes(32)
        self.uploads: OrderedDict[str, _Upload] = OrderedDict()
        self._upload_dir = Path(tempfile.mkdtemp(prefix="policyidx-web-"))
        self._lock = threading.Lock()

    # -- API pass-throughs ------------------------------------------------------------
    def alignment(self, src: str, tgt: str) -> Alignment:
        """The reviewed alignment of two corpus documents."""
        return self.index.alignment(src, tgt)

    def token(self) -> str:
        """The same-origin token every edit must carry."""
        return hmac.new(self.secret, b"policyidx-edit", "sha256").hexdigest()

    def check_token(self, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(str(value), self.token())

    def add_upload(self, src: Document, tgt: Document, auto: Alignment) -> str:
        from ..review import ReviewStore as _Store

        token = secrets.token_urlsafe(12)
        with self._lock:
            self.uploads[token] = _Upload(token, src, tgt, auto, _Store(self._upload_dir / f"review-{token}.json"))
            while len(self.uploads) > MAX_UPLOADS:
                old, up = self.uploads.popitem(last=False)
                try:
                    up.store.path.unlink()
                except OSError:
                    pass
        return token


# ----------------------------------------------------------------------------- rendering


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(anchor=anchor, html_lang=lambda lang: _HTML_LANG.get(lang, lang), quote=lambda s: quote(s, safe=""),
                       body_text=body_text, path_of=lambda cid: cid.split("#", 1)[1] if "#" in cid else cid)
    env.filters["score"] = lambda x: f"{float(x):.2f}"
    return env


_ENV: jinja2.Environment | None = None


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    global _ENV
    if _ENV is None:
        _ENV = _env()
    wb: Workbench = request.app.state.wb
    html = _ENV.get_template(name).render(request=request, token=wb.token(), corpus=wb.corpus, **ctx)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, message: str, status: int = 400) -> HTMLResponse:
    return render(request, "error.html", status=status, message=message)


def _doc_or_404(request: Request, doc_id: str) -> Document | HTMLResponse:
    wb: Workbench = request.app.state.wb
    if doc_id not in wb.corpus:
        return error_page(request, f"no document {doc_id!r} in this corpus", 404)
    return wb.corpus[doc_id]


# ----------------------------------------------------------------------------- search


def _listarg(request: Request, name: str) -> list[str]:
    return [v for v in request.query_params.getlist(name) if v]


async def search_page(request: Request) -> HTMLResponse:
    wb: Workbench = request.app.state.wb
    qp = request.query_params
    q = qp.get("q", "").strip()
    mode = qp.get("mode", "hybrid")
    lang = qp.get("lang") or None
    k = qp.get("k", "10")
    expand = qp.get("expand", "1") != "0"
    docs, works, roles = _listarg(request, "doc"), _listarg(request, "work"), _listarg(request, "role")
    hits: list[Any] = []
    problem = None
    if q:
        try:
            kk = int(k)
            if not 1 <= kk <= 100:
                raise ValueError
        except ValueError:
            problem = f"k must be a whole number from 1 to 100, not {k!r}"
        else:
            try:
                hits = wb.index.search(q, k=kk, mode=mode, lang=lang, docs=docs or None, works=works or None,
                                       roles=roles or None, expand=expand)
            except PolicyIdxError as exc:
                problem = str(exc)
    rows = []
    for h in hits:
        n = len(h.snippet)
        spans = [(max(s - h.snippet_start, 0), min(e - h.snippet_start, n)) for s, e in h.highlights
                 if e > h.snippet_start and s < h.snippet_start + n]
        path = h.id.split("#", 1)[1]
        rows.append({"hit": h, "snippet": highlight(h.snippet, spans), "path": path,
                     "href": f"/doc/{quote(h.doc)}#{anchor(h.id)}", "clause_href": f"/clause/{quote(h.doc)}/{path}"})
    works_all = sorted({d.work for d in wb.corpus})
    return render(request, "search.html", q=q, mode=mode, lang=lang or "", k=k, expand=expand, docs=docs, works=works,
                  roles=roles, rows=rows, problem=problem, works_all=works_all,
                  roles_all=sorted({d.role for d in wb.corpus}))


# ----------------------------------------------------------------------------- documents


def _partners(wb: Workbench, doc: Document) -> list[Document]:
    return [d for d in wb.corpus.counterpart_docs(doc.id) if d.lang != doc.lang]


def _pair_url(a: Document, b: Document) -> str:
    """Side by side with the original on the left."""
    if a.role != "original" and b.role == "original":
        a, b = b, a
    return f"/align/{quote(a.id)}/{quote(b.id)}"


async def docs_page(request: Request) -> HTMLResponse:
    wb: Workbench = request.app.state.wb
    rows = [{"doc": d, "partners": [(p, _pair_url(d, p)) for p in _partners(wb, d)], "n": len(d.clauses)} for d in wb.corpus]
    return render(request, "docs.html", rows=rows)


async def doc_page(request: Request) -> HTMLResponse:
    wb: Workbench = request.app.state.wb
    doc = _doc_or_404(request, request.path_params["doc"])
    if isinstance(doc, HTMLResponse):
        return doc
    partners = [(p, _pair_url(doc, p)) for p in _partners(wb, doc)]
    others = [d for d in wb.corpus if d.id != doc.id]
    return render(request, "doc.html", doc=doc, partners=partners, others=others, goto=request.query_params.get("c", ""),
                  not_found=request.query_params.get("missing", ""))


async def goto(request: Request) -> Response:
    doc = _doc_or_404(request, request.path_params["doc"])
    if isinstance(doc, HTMLResponse):
        return doc
    c = request.query_params.get("c", "")
    found = find_clause(doc, c)
    if not found:
        return RedirectResponse(f"/doc/{quote(doc.id)}?missing={quote(c)}", status_code=303)
    return RedirectResponse(f"/doc/{quote(doc.id)}#{anchor(found[0].id)}", status_code=303)


async def clause_page(request: Request) -> HTMLResponse:
    wb: Workbench = request.app.state.wb
    doc = _doc_or_404(request, request.path_params["doc"])
    if isinstance(doc, HTMLResponse):
        return doc
    cid = f"{doc.id}#{request.path_params['path']}"
    if cid not in doc:
        return error_page(request, f"no clause {cid!r}", 404)
    clause = doc.clause(cid)
    counterparts: list[Any] = []
    problem = None
    try:
        counterparts = wb.index.counterparts(cid, k=5)
    except PolicyIdxError as exc:
        problem = str(exc)
    return render(request, "clause.html", doc=doc, clause=clause, ancestors=clause.ancestors(),
                  counterparts=counterparts, problem=problem)


# ----------------------------------------------------------------------------- side by side


def _bucket(cp: ClausePair | None, score: float) -> str:
    if cp is not None and (not cp.src or not cp.tgt):
        return "unpaired"
    if cp is not None and not cp.sentences:
        return "container"  # headings without text of their own: paired by their contents
    return "high" if score >= 0.4 else "mid" if score >= 0.2 else "low"


def _term_spans(glossary: Any, text: str, lang: str, other_text: str, other_lang: str) -> list[tuple[int, int, Markup, Markup]]:
    """Glossary terms in ``text``; a term whose entry also has a rendering in ``other_text``
    is marked as matched."""
    if lang not in ("zh", "ja", "en") or not text:
        return []
    # the general vocabulary of policy writing (推进, 加强) would mark every line: domain terms only
    found = [f for f in glossary.find_in(text, lang) if f[0].domain != "general"]
    other: set[str] = set()
    if other_text and other_lang in ("zh", "ja", "en"):
        other = {e.zh for e, _, _, _ in glossary.find_in(other_text, other_lang)}
    spans = []
    seen: set[tuple[int, int]] = set()
    for entry, _term, s, e in found:
        if (s, e) in seen:
            continue
        seen.add((s, e))
        tip = f"{entry.zh} · ja: {' / '.join(entry.ja) or '—'} · en: {' / '.join(entry.en) or '—'}"
        cls = "term both" if entry.zh in other else "term"
        open_ = Markup('<a class="%s" href="/term?q=%s" title="%s">') % (cls, quote(entry.zh, safe=""), tip)
        spans.append((s, e, open_, Markup("</a>")))
    return spans


def _side_by_side(wb: Workbench, al: Alignment, src: Document, tgt: Document) -> list[dict[str, Any]]:
    from ..export import bead_text, pair_kind
    from ..review import bead_status, review_status

    sent = {s.id: s for d in (src, tgt) for c in d.clauses for s in c.sentences}
    gl = wb.index.glossary
    rows = []
    for k, cp in enumerate(al.pairs):
        beads = []
        for j, sp in enumerate(cp.sentences):
            a = bead_text([sent[s].text for s in sp.src if s in sent])
            b = bead_text([sent[s].text for s in sp.tgt if s in sent])
            nxt = cp.sentences[j + 1] if j + 1 < len(cp.sentences) else None
            beads.append({
                "sp": sp,
                "next": nxt,
                "status": bead_status(al, sp),
                "a": marked(a, _term_spans(gl, a, src.lang, b, tgt.lang)) if sp.src else None,
                "b": marked(b, _term_spans(gl, b, tgt.lang, a, src.lang)) if sp.tgt else None,
                "score": sp.score,
                "bucket": "unpaired" if not sp.src or not sp.tgt else _bucket(None, sp.score),
            })
        rows.append({
            "k": k,
            "cp": cp,
            "src": [src.clause(c) for c in cp.src],
            "tgt": [tgt.clause(c) for c in cp.tgt],
            "status": review_status(al, cp),
            "kind": pair_kind(cp),
            "bucket": _bucket(cp, cp.score),
            "beads": beads,
            "next": al.pairs[k + 1] if k + 1 < len(al.pairs) else None,
        })
    return rows


def _align_view(request: Request, al: Alignment, src: Document, tgt: Document, base: str, title: str,
                store: ReviewStore) -> HTMLResponse:
    wb: Workbench = request.app.state.wb
    rows = _side_by_side(wb, al, src, tgt)
    review = al.params.get("review") or {}
    counts = {
        "pairs": sum(1 for cp in al.pairs if cp.src and cp.tgt),
        "unpaired": sum(1 for cp in al.pairs if not cp.src or not cp.tgt),
        "reviewed": len(review.get("status") or {}),
        "low": sum(1 for r in rows if r["bucket"] == "low"),
    }
    ops = store.ops(src.id, tgt.id)
    return render(request, "align.html", al=al, src=src, tgt=tgt, rows=rows, base=base, title=title, counts=counts,
                  skipped=review.get("skipped") or [], last_op=ops[-1] if ops else None, exports=list(EXPORTS),
                  src_clauses=[c for c in src.clauses], tgt_clauses=[c for c in tgt.clauses],
                  store_path=str(store.path))


def _two_docs(request: Request) -> tuple[Document, Document] | HTMLResponse:
    a = _doc_or_404(request, request.path_params["src"])
    if isinstance(a, HTMLResponse):
        return a
    b = _doc_or_404(request, request.path_params["tgt"])
    if isinstance(b, HTMLResponse):
        return b
    if a.id == b.id:
        return error_page(request, "pick two different documents")
    return a, b


async def align_page(request: Request) -> HTMLResponse:
    wb: Workbench = request.app.state.wb
    pair = _two_docs(request)
    if isinstance(pair, HTMLResponse):
        return pair
    src, tgt = pair
    try:
        al = wb.alignment(src.id, tgt.id)
    except PolicyIdxError as exc:
        return error_page(request, str(exc))
    base = f"/align/{quote(src.id)}/{quote(tgt.id)}"
    return _align_view(request, al, src, tgt, base, f"{src.id} ↔ {tgt.id}", wb.review)


def _export(al: Alignment, src: Document, tgt: Document, fmt: str) -> Response:
    from .. import export

    if fmt not in EXPORTS:
        return Response(f"unknown export format {fmt!r}; one of {', '.join(EXPORTS)}", status_code=404, media_type="text/plain")
    media, fn_name = EXPORTS[fmt]
    with tempfile.TemporaryDirectory(prefix="policyidx-export-") as tmp:
        out = Path(tmp) / f"export.{fmt}"
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(export, fn_name)(al, src, tgt, out)
        data = out.read_bytes()
    name = re.sub(r"[^\w.\-]+", "_", f"{src.id}__{tgt.id}.{fmt}")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if caught:
        headers["X-Policyidx-Warnings"] = re.sub(r"[^\x20-\x7e]", "?", "; ".join(str(w.message) for w in caught))[:2000]
    return Response(data, media_type=media, headers=headers)


async def export_route(request: Request) -> Response:
    wb: Workbench = request.app.state.wb
    pair = _two_docs(request)
    if isinstance(pair, HTMLResponse):
        return pair
    src, tgt = pair
    try:
        al = wb.alignment(src.id, tgt.id)
        return _export(al, src, tgt, request.path_params["fmt"])
    except PolicyIdxError as exc:
        return error_page(request, str(exc))


# ----------------------------------------------------------------------------- review (edits)


def _same_origin(request: Request) -> bool:
    """An edit must come from a page of this server: Origin (or Referer) names this host."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    if origin == "null":
        return False
    return urlsplit(origin).netloc == host


async def _edit_guard(request: Request) -> tuple[dict[str, Any], Response | None]:
    wb: Workbench = request.app.state.wb
    if not _same_origin(request):
        return {}, Response("edits must come from this server's own pages (Origin/Referer check failed)", status_code=403,
                            media_type="text/plain")
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > 1_000_000:
        return {}, Response("a review edit is a small form", status_code=413, media_type="text/plain")
    form = await request.form(max_files=0, max_fields=2000)
    data = {"op": form.get("op"), "src": form.getlist("src"), "tgt": form.getlist("tgt"), "token": form.get("token"),
            "back": form.get("back", "")}
    if not wb.check_token(data["token"]):
        return data, Response("missing or stale edit token: reload the page and try again", status_code=403,
                              media_type="text/plain")
    return data, None


def _record(store: ReviewStore, al: Alignment, data: dict[str, Any]) -> str | None:
    """Record one operation; the error message if it is refused."""
    from ..review import ReviewError

    op = data.get("op")
    method = {"confirm": store.confirm, "reject": store.reject, "link": store.relink, "join": store.join,
              "split": store.split, "join_beads": store.join_beads, "split_bead": store.split_bead,
              "reject_bead": store.reject_bead}.get(str(op))
    if method is None:
        return f"unknown review operation {op!r}"
    src = [s for s in data["src"] if s]
    tgt = [t for t in data["tgt"] if t]
    try:
        method(al, src, tgt)
    except ReviewError as exc:
        return str(exc)
    return None


def _back(base: str, data: dict[str, Any], error: str | None = None) -> RedirectResponse:
    frag = str(data.get("back") or "")
    frag = frag if re.fullmatch(r"[\w.:\-]{1,200}", frag) else ""
    url = base + (f"?error={quote(error)}" if error else "") + (f"#{frag}" if frag else "")
    return RedirectResponse(url, status_code=303)


async def review_route(request: Request) -> Response:
    wb: Workbench = request.app.state.wb
    data, refused = await _edit_guard(request)
    if refused is not None:
        return refused
    pair = _two_docs(request)
    if isinstance(pair, HTMLResponse):
        return pair
    src, tgt = pair
    al = wb.alignment(src.id, tgt.id)
    err = _record(wb.review, al, data)
    return _back(f"/align/{quote(src.id)}/{quote(tgt.id)}", data, err)


async def undo_route(request: Request) -> Response:
    wb: Workbench = request.app.state.wb
    data, refused = await _edit_guard(request)
    if refused is not None:
        return refused
    upload = request.path_params.get("token")
    if upload is not None:
        up = wb.uploads.get(upload)
        if up is None:
            return error_page(request, "this upload has expired; upload the files again", 404)
        up.store.undo()
        return _back(f"/files/{upload}", data)
    pair = _two_docs(request)
    if isinstance(pair, HTMLResponse):
        return pair
    src, tgt = pair
    wb.review.undo(src.id, tgt.id)  # the last change made on this page's pair of documents
    return _back(f"/align/{quote(src.id)}/{quote(tgt.id)}", data)


async def import_route(request: Request) -> Response:
    """A corrected TSV (exported, edited in a spreadsheet) read back into the review store."""
    wb: Workbench = request.app.state.wb
    if not _same_origin(request):
        return Response("edits must come from this server's own pages (Origin/Referer check failed)", status_code=403,
                        media_type="text/plain")
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > wb.upload_limit:
        return Response("a corrected TSV must say its length and stay under the upload limit", status_code=413,
                        media_type="text/plain")
    from starlette.datastructures import UploadFile

    form = await request.form(max_files=1, max_fields=10)
    if not wb.check_token(form.get("token")):  # type: ignore[arg-type]
        return Response("missing or stale edit token: reload the page and try again", status_code=403, media_type="text/plain")
    upload = request.path_params.get("token")
    if upload is not None:
        up = _upload_or_404(request)
        if isinstance(up, HTMLResponse):
            return up
        store, auto, src, tgt, base = up.store, up.auto, up.src, up.tgt, f"/files/{up.token}"
    else:
        pair = _two_docs(request)
        if isinstance(pair, HTMLResponse):
            return pair
        src, tgt = pair
        store, auto, base = wb.review, wb.index.alignment(src.id, tgt.id, reviewed=False), \
            f"/align/{quote(src.id)}/{quote(tgt.id)}"
    f = form.get("tsv")
    if not isinstance(f, UploadFile) or not f.filename:
        return _back(base, {}, "choose the corrected TSV file")
    with tempfile.TemporaryDirectory(prefix="policyidx-import-") as tmp:
        path = Path(tmp) / "corrected.tsv"
        path.write_bytes(await f.read())
        try:
            ops = store.import_tsv(path, auto, src, tgt)
        except PolicyIdxError as exc:
            return _back(base, {}, str(exc).replace(str(path), Path(str(f.filename)).name))
    return RedirectResponse(f"{base}?imported={len(ops)}", status_code=303)


# ----------------------------------------------------------------------------- match, terms


async def match_page(request: Request) -> HTMLResponse:
    wb: Workbench = request.app.state.wb
    from ..alignment import match

    qp = request.query_params
    a_id, b_id = qp.get("a", ""), qp.get("b", "")
    rows: list[dict[str, Any]] = []
    problem = None
    threshold = qp.get("threshold", "0.3")
    if a_id and b_id:
        if a_id not in wb.corpus or b_id not in wb.corpus:
            problem = "pick two documents of the corpus"
        else:
            try:
                t = float(threshold)
                a, b = wb.corpus[a_id], wb.corpus[b_id]
                for m in match(a, b, threshold=t, glossary=wb.index.glossary):
                    ca = m.a.split("/", 1)[0]
                    rows.append({"m": m, "a_clause": a.clause(ca), "b_clause": b.clause(m.b.split("/", 1)[0]),
                                 "a_text": _unit_text(a, m.a), "b_text": _unit_text(b, m.b)})
            except ValueError:
                problem = f"threshold must be a number, not {threshold!r}"
            except PolicyIdxError as exc:
                problem = str(exc)
    return render(request, "match.html", a=a_id, b=b_id, threshold=threshold, rows=rows, problem=problem,
                  docs=list(wb.corpus))


def _unit_text(doc: Document, unit: str) -> str:
    cid, _, n = unit.partition("/")
    clause = doc.clause(cid)
    if n:
        for s in clause.sentences:
            if s.id == unit:
                return s.text
    return clause.text


async def term_page(request: Request) -> HTMLResponse:
    wb: Workbench = request.app.state.wb
    from ..concordance import terms

    q = request.query_params.get("q", "").strip()
    results: list[Any] = []
    problem = None
    if q:
        def counterpart(cid: str) -> str | None:
            try:
                aligned = wb.index.aligned_clauses(cid)
            except PolicyIdxError:
                return None
            return aligned[0][0] if aligned else None

        try:
            results = terms(q, index=wb.index, glossary=wb.index.glossary, counterpart=counterpart, context=24)
        except PolicyIdxError as exc:
            problem = str(exc)
    return render(request, "term.html", q=q, results=results, problem=problem)


# ----------------------------------------------------------------------------- ad hoc files


async def files_page(request: Request) -> HTMLResponse:
    wb: Workbench = request.app.state.wb
    return render(request, "files.html", limit_mb=wb.upload_limit / 2**20, problem=request.query_params.get("error"))


async def files_upload(request: Request) -> Response:
    wb: Workbench = request.app.state.wb
    if not _same_origin(request):
        return Response("uploads must come from this server's own page", status_code=403, media_type="text/plain")
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        return Response("an upload must say its length", status_code=411, media_type="text/plain")
    if int(length) > wb.upload_limit:
        return render(request, "files.html", status=413, limit_mb=wb.upload_limit / 2**20,
                      problem=f"the files are {int(length) / 2**20:.1f} MB together; the limit is {wb.upload_limit / 2**20:.0f} MB")
    # read no more than the limit, whatever the header said
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > wb.upload_limit:
            return Response("upload larger than the limit", status_code=413, media_type="text/plain")
    from starlette.datastructures import FormData, UploadFile
    from starlette.formparsers import MultiPartParser

    async def replay():
        yield bytes(body)
        yield b""

    try:
        form: FormData = await MultiPartParser(request.headers, replay(), max_files=2, max_fields=20).parse()
    except Exception as exc:  # multipart errors: a clear message, no traceback
        return render(request, "files.html", status=400, limit_mb=wb.upload_limit / 2**20, problem=f"unreadable upload ({exc})")
    if not wb.check_token(form.get("token")):  # type: ignore[arg-type]
        return Response("missing or stale edit token: reload the page and try again", status_code=403, media_type="text/plain")
    files = [form.get("file_a"), form.get("file_b")]
    if not all(isinstance(f, UploadFile) and f.filename for f in files):
        return render(request, "files.html", status=400, limit_mb=wb.upload_limit / 2**20, problem="choose two files")
    from ..adhoc import document_from_bytes
    from ..alignment import align

    docs = []
    try:
        for k, f in enumerate(files):
            assert isinstance(f, UploadFile)
            data = await f.read()
            lang = str(form.get(f"lang_{'ab'[k]}") or "") or None
            fmt = str(form.get(f"format_{'ab'[k]}") or "") or None
            from_pdf = "pdf" if form.get(f"from_pdf_{'ab'[k]}") else ""
            name = Path(str(f.filename)).name[:200] or f"file_{'ab'[k]}"
            doc = document_from_bytes(data, name, lang=lang, format=fmt, role="original" if k == 0 else "translation",
                                      extracted_from=from_pdf)
            if docs and doc.id == docs[0].id:
                doc = document_from_bytes(data, name, lang=doc.lang, format=fmt, role="translation", extracted_from=from_pdf,
                                          doc_id=doc.id.rsplit(".", 1)[0] + "-2." + doc.lang)
            docs.append(doc)
        auto = align(docs[0], docs[1], glossary=wb.index.glossary)
    except PolicyIdxError as exc:
        return render(request, "files.html", status=400, limit_mb=wb.upload_limit / 2**20, problem=str(exc))
    token = wb.add_upload(docs[0], docs[1], auto)
    return RedirectResponse(f"/files/{token}", status_code=303)


def _upload_or_404(request: Request) -> _Upload | HTMLResponse:
    wb: Workbench = request.app.state.wb
    up = wb.uploads.get(request.path_params["token"])
    if up is None:
        return error_page(request, "this upload has expired (the server keeps the last few); upload the files again", 404)
    return up


async def upload_view(request: Request) -> HTMLResponse:
    up = _upload_or_404(request)
    if isinstance(up, HTMLResponse):
        return up
    wb: Workbench = request.app.state.wb
    al = up.store.apply(up.auto, up.src, up.tgt, glossary=wb.index.glossary)
    return _align_view(request, al, up.src, up.tgt, f"/files/{up.token}", f"{up.src.title} ↔ {up.tgt.title}", up.store)


async def upload_export(request: Request) -> Response:
    up = _upload_or_404(request)
    if isinstance(up, HTMLResponse):
        return up
    wb: Workbench = request.app.state.wb
    al = up.store.apply(up.auto, up.src, up.tgt, glossary=wb.index.glossary)
    return _export(al, up.src, up.tgt, request.path_params["fmt"])


async def upload_review(request: Request) -> Response:
    wb: Workbench = request.app.state.wb
    data, refused = await _edit_guard(request)
    if refused is not None:
        return refused
    up = _upload_or_404(request)
    if isinstance(up, HTMLResponse):
        return up
    al = up.store.apply(up.auto, up.src, up.tgt, glossary=wb.index.glossary)
    return _back(f"/files/{up.token}", data, _record(up.store, al, data))


# ----------------------------------------------------------------------------- app


class _SecurityHeaders:
    """Pure ASGI middleware: a strict Content-Security-Policy and friends on every response."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"cache-control", b"no-store"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _not_found(request: Request, exc: Exception) -> HTMLResponse:
    return error_page(request, "no such page", 404)


async def _server_error(request: Request, exc: Exception) -> HTMLResponse:
    return error_page(request, f"{type(exc).__name__}: {exc}", 500)


def create_app(corpus: Any = None, index: Any = None, *, upload_limit: int = UPLOAD_LIMIT,
               allowed_hosts: Sequence[str] = ("127.0.0.1", "localhost", "::1"), workbench: Workbench | None = None) -> Starlette:
    """The ASGI application.

    Parameters
    ----------
    corpus, index
        As for :class:`Workbench`.
    upload_limit : int
        Largest accepted upload request, in bytes.
    allowed_hosts : sequence of str
        ``Host`` headers accepted (a guard against DNS rebinding); add the name the server is
        reached by when it binds another interface.
    workbench : Workbench, optional
        Serve this workbench instead of making one.
    """
    wb = workbench or Workbench(corpus, index, upload_limit=upload_limit)
    routes = [
        Route("/", search_page),
        Route("/docs", docs_page),
        Route("/doc/{doc}", doc_page),
        Route("/doc/{doc}/goto", goto),
        Route("/clause/{doc}/{path}", clause_page),
        Route("/align/{src}/{tgt}", align_page),
        Route("/align/{src}/{tgt}/export/{fmt}", export_route),
        Route("/align/{src}/{tgt}/review", review_route, methods=["POST"]),
        Route("/align/{src}/{tgt}/undo", undo_route, methods=["POST"]),
        Route("/align/{src}/{tgt}/import", import_route, methods=["POST"]),
        Route("/match", match_page),
        Route("/term", term_page),
        Route("/files", files_page),
        Route("/files", files_upload, methods=["POST"]),
        Route("/files/{token}", upload_view),
        Route("/files/{token}/export/{fmt}", upload_export),
        Route("/files/{token}/review", upload_review, methods=["POST"]),
        Route("/files/{token}/undo", undo_route, methods=["POST"]),
        Route("/files/{token}/import", import_route, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    hosts = list(allowed_hosts)
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts), Middleware(_SecurityHeaders)],
        exception_handlers={404: _not_found, 500: _server_error},
    )
    app.state.wb = wb
    return app


def serve(corpus: Any = None, index: Any = None, *, host: str = "127.0.0.1", port: int = 8765,
          upload_limit: int = UPLOAD_LIMIT, log_level: str = "warning") -> None:
    """Start the workbench with uvicorn (blocks until interrupted).

    Parameters
    ----------
    corpus, index
        As for :class:`Workbench`.
    host : str
        Interface to bind: 127.0.0.1 by default (this machine only).  Any other address
        makes the workbench, its edits included, reachable from the network.
    port : int
        TCP port.
    """
    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError('the web workbench needs uvicorn: pip install "policyidx[web]"') from None

    hosts = ["127.0.0.1", "localhost", "::1"]
    if host not in hosts:
        hosts.append("*" if host in ("0.0.0.0", "::") else host)
    print(f"policyidx: opening the index of {corpus or 'the default corpus'} ...", file=sys.stderr)
    app = create_app(corpus, index, upload_limit=upload_limit, allowed_hosts=hosts)
    shown = f"[{host}]" if ":" in host else host
    print(f"policyidx workbench on http://{shown}:{port}/  (Ctrl+C stops it)", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m policyidx.web``: the same options as ``policyidx serve``."""
    p = argparse.ArgumentParser(prog="python -m policyidx.web", description="the policyidx browser workbench")
    p.add_argument("--corpus", metavar="DIR", help="corpus directory (default $POLICYIDX_CORPUS, else the bundled corpus)")
    p.add_argument("--index", metavar="DIR", help="index directory (default: the corpus's default index)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    args = p.parse_args(argv)
    try:
        serve(args.corpus, args.index, host=args.host, port=args.port)
    except PolicyIdxError as exc:
        print(f"policyidx: {exc}", file=sys.stderr)
        return 2
    return 0

