"""Tokens and index terms for Chinese, Japanese and English text.

Two levels:

* :func:`tokenize` gives :class:`Token` records with exact offsets into the input, for
  highlighting and alignment.
* :func:`analyze` gives the *index terms* of a text for BM25: normalised content words,
  numbers written with digits, and Han-bridge features -- bigrams of unified Han
  characters, prefixed with ``#`` -- through which a Chinese query meets a Japanese clause
  (``知识产权`` and ``知的財産権`` share ``#产权``).  :func:`analyze_query` weighs them.

Chinese is segmented by jieba, Japanese by MeCab (fugashi + unidic-lite), English by a
regular expression with light suffix stripping.  A domain dictionary (``data/userdict.tsv``,
the project glossary ``data/glossary.tsv`` when present, and any file given to
:func:`load_user_terms`) keeps terms such as ``专精特新`` or ``開放許諾`` in one piece.

Loading user terms changes the terms of later calls: rebuild keyword indexes afterwards.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import csv
import logging
import os
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator, Literal

from policyidx.errors import MissingDependencyError, PolicyIdxError, QueryError
from policyidx.text.han import HAN_CHAR, HAN_RUN, normalize_width, unify
from policyidx.text.numerals import parse_numeral
from policyidx.text.stem import en_stem

__all__ = [
    "Lang",
    "Token",
    "detect_lang",
    "tokenize",
    "analyze",
    "analyze_query",
    "load_user_terms",
    "Analyzer",
    "user_terms",
    "BRIDGE_PREFIX",
    "BRIDGE_WEIGHT",
    "ZH_QUESTION_FRAME",
    "zh_question_frame",
]

Lang = Literal["zh", "ja", "en"]

#: Prefix of Han-bridge features; no word term starts with it (``#`` is punctuation).
BRIDGE_PREFIX = "#"
#: Default weight of a bridge feature in :func:`analyze_query` (word terms weigh 1.0).
BRIDGE_WEIGHT = 0.4


@dataclass(frozen=True)
class Token:
    """One token: ``surface == text[start:end]`` of the analysed text.

    ``norm`` is the form used for matching: width-folded, Han-unified, lowercase, and for
    Japanese inflected words the dictionary form (``高め`` -> ``高める``).
    """

    surface: str
    start: int
    end: int
    norm: str


# --------------------------------------------------------------------------- language

_KANA_RE = re.compile(r"[\u3041-\u309f\u30a1-\u30ff\u31f0-\u31ff\uff66-\uff9d]")
_HAN_RUN_RE = HAN_RUN
_HAN_CHAR_RE = HAN_CHAR


def detect_lang(text: str) -> Lang:
    """Guess the language of ``text``: ``"ja"``, ``"zh"`` or ``"en"``.

    Kana means Japanese, Han without kana Chinese, anything else English.  A stray kana
    in a long Chinese text (a brand name with ``の``) does not make it Japanese: kana must
    be at least 1/20 of the Han characters.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        ``"ja"``, ``"zh"`` or ``"en"``.
    """
    kana = len(_KANA_RE.findall(text))
    han = len(_HAN_CHAR_RE.findall(text))
    if kana and kana * 20 >= han:
        return "ja"
    if han:
        return "zh"
    return "en"


def _check_lang(lang: str | None, text: str) -> Lang:
    if lang is None:
        return detect_lang(text)
    if lang not in ("zh", "ja", "en"):
        raise QueryError(
            f"unknown language {lang!r}: expected 'zh', 'ja', 'en' or None (detect)"
        )
    return lang  # type: ignore[return-value]


# --------------------------------------------------------------------------- stopwords

_ZH_STOP = frozenset(
    "的 地 得 了 着 和 与 及 以及 或 或者 等 等等 在 对 对于 为 为了 是 将 把 被 之 其 以 并 并且 "
    "而 且 由 从 向 于 按 按照 通过 有关 相关 进行 开展 有 也 还 都 各 该 此 这 那 这些 那些 "
    "个 中 上 下 第 所 要 可 可以 应 应当 及其 一是 二是 三是 四是 五是 六是".split()
)
_JA_STOP = frozenset(
    "する ある いる なる れる られる せる させる できる こと もの ため よう これ それ その この "
    "あの どの など 等 及び 並びに 又は または 且つ かつ おける 関する 対する よる 第 つ 目 的".split()
)
_EN_STOP = frozenset(
    "a an and are as at be been being by for from has have in is it its of on or that the "
    "these this those to was were which will with".split()
)
#: The frame of a Chinese question, not its content (申请专利需要**什么**材料, 罚款**多少**): a
#: query's words in it are no query terms (:func:`zh_question_frame`), nor synonyms to look for.
ZH_QUESTION_FRAME = frozenset(
    "什么 什么样 为什么 为何 哪些 哪个 哪种 哪类 哪里 哪儿 哪 怎么 怎么样 怎么办 怎样 如何 多少 多久 多长 几 "
    "吗 呢 吧 是否 能否 可否 有没有 谁 何时 几时 多长时间 啥 咋 咋办".split()
)
#: The nouns a frame word asks about, blanked with the frame word before them: 多少钱 ("how
#: much", jieba's 多少 + 钱: 钱 stands in no fine's article, and matched 小额钱债审裁处), 什么时候
#: ("when").
ZH_FRAME_NOUNS = frozenset("钱 时候 时间".split())
# A-not-A questions: 能不能 -> 能, 需不需要 -> 需要, 有没有 -> 有
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
# MeCab parts of speech that are never index terms.
_JA_DROP_POS = frozenset(["助詞", "助動詞", "補助記号", "空白", "記号", "接続詞", "代名詞", "感動詞"])
# Parts of speech whose dictionary form is the better index term.
_JA_BASE_POS = frozenset(["動詞", "形容詞"])

# --------------------------------------------------------------------------- numbers

# The characters of numbers inside one jieba token (read by policyidx.text.numerals).
_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_UNITS = "十百千"
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_NUM_CHARS = frozenset("0123456789.," + "".join(_CN_DIGITS) + "".join(_CN_UNITS) + "".join(_CN_BIG))
# Counters and units that follow a number inside one jieba token (``四件``, ``二三年``).
_CLASSIFIERS = frozenset("个件项家次年月日名人位条款批种类所倍元届期号部章节点岁")
# Words made of numeral characters that are not quantities.
_NOT_NUMBERS = frozenset(["万一", "一一", "千万"])
_CN_NUM_TOKEN_RE = re.compile(r"^([0-9.,零〇一二两三四五六七八九十百千万亿]+)(.?)$")


def _parse_small(s: str) -> int | None:
    """A Chinese numeral below 10,000 (``三千五百``, ``十四``, ``二三``); 0 for nothing."""
    return parse_numeral(s) if s else 0


def _parse_number(s: str) -> str | None:
    """Digits for a number written with Chinese numerals and/or Arabic digits."""
    s = s.replace(",", "")
    if not s:
        return None
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", s):
        return s
    value = 0.0
    rest = s
    for big_char, big in (("亿", _CN_BIG["亿"]), ("万", _CN_BIG["万"])):
        if big_char in rest:
            head, _, rest = rest.partition(big_char)
            if big_char in rest:
                return None
            if re.fullmatch(r"[0-9]+(\.[0-9]+)?", head):
                part: float | None = float(head)
            else:
                small = _parse_small(head) if head else 1
                part = None if small is None else float(small)
            if part is None:
                return None
            value += part * big
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", rest):
        value += float(rest)
    else:
        small = _parse_small(rest)
        if small is None:
            return None
        value += small
    if value == int(value):
        return str(int(value))
    return repr(value)


def _number_terms(word: str) -> list[str] | None:
    """Split ``四件`` into ``["4", "件"]``; None if ``word`` is not a quantity."""
    if word in _NOT_NUMBERS:
        return None
    m = _CN_NUM_TOKEN_RE.match(word)
    if m is None:
        return None
    num, tail = m.group(1), m.group(2)
    if tail and tail not in _CLASSIFIERS:
        return None
    value = _parse_number(num)
    if value is None:
        return None
    return [value, tail] if tail else [value]


# --------------------------------------------------------------------------- English

_EN_WORD_RE = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


_en_stem = en_stem  # the one English stemmer (policyidx.text.stem)


# --------------------------------------------------------------------------- lexicon


_SHARED_LOCK = threading.Lock()
_SHARED: dict[str, object] = {}


def _shared(name: str, make) -> object:
    """One instance per process of what no lexicon changes: jieba's base dictionary (the
    tokenizer every lexicon copies) and the MeCab tagger."""
    obj = _SHARED.get(name)
    if obj is None:
        with _SHARED_LOCK:
            obj = _SHARED.get(name)
            if obj is None:
                obj = _SHARED[name] = make()
    return obj


class _Lexicon:
    """The segmenters and a domain dictionary: the state of one :class:`Analyzer`."""

    def __init__(self, frozen: os.PathLike[str] | str | None = None) -> None:
        self.lock = threading.RLock()
        self.terms: set[str] = set()  # unified forms, any language
        self.prefixes: set[str] = set()
        self.parts: dict[str, tuple[str, ...]] = {}
        self._jieba: object | None = None
        self._base_jieba: object | None = None
        self._mecab: object | None = None
        self._loaded_default = False
        #: a segmenter cache (policyidx.text.segcache) this lexicon was loaded from: read-only
        self.frozen: str | None = None
        if frozen is not None:
            from .segcache import load_lexicon_state

            state = load_lexicon_state(Path(frozen))
            self.frozen = os.fspath(frozen)
            self._frozen_state = (int(state["total"]), int(state["words"]))
            self.terms = set(state["terms"])
            self.prefixes = {t[:i] for t in self.terms for i in range(1, len(t) + 1)}
            self.parts = {t: tuple(p) for t, p in state["parts"].items()}
            self._loaded_default = True

    # -- segmenters
    def jieba(self) -> object:
        if self._jieba is None and self.frozen is not None:
            with self.lock:
                if self._jieba is None:
                    self._jieba = _frozen_jieba(self.frozen, *self._frozen_state)
        if self._jieba is None:
            with self.lock:
                if self._jieba is None:
                    self._base_jieba = _shared("jieba", _new_jieba)
                    # a second tokenizer sharing the base dictionary (copied, not reloaded:
                    # loading jieba's dictionary costs ~0.8 s, copying it ~0.05 s)
                    tok = _clone_jieba(self._base_jieba)
                    # the domain terms are added once, in sorted order, whichever language
                    # comes first: the same dictionary state in every process
                    self._load_default_terms()
                    self._jieba = tok
                    for term in sorted(self.terms):
                        self._add_to_jieba(term)
        return self._jieba

    def mecab(self) -> object:
        if self._mecab is None:
            with self.lock:
                if self._mecab is None:
                    self._mecab = _shared("mecab", _new_mecab)
                    self._load_default_terms()
        return self._mecab

    def compound_parts(self) -> dict[str, tuple[str, ...]]:
        """Parts of the domain compounds.  They are computed with jieba, so jieba is set up
        first: otherwise a Japanese text analysed before any Chinese one would index its
        compounds without their parts, and the same text would give other terms later."""
        if self._jieba is None:
            self.jieba()
        return self.parts

    def ensure_terms(self) -> None:
        self._load_default_terms()

    # -- dictionary
    def _load_default_terms(self) -> None:
        if self._loaded_default:
            return
        with self.lock:
            if self._loaded_default:
                return
            self._loaded_default = True
            data = resources.files("policyidx") / "data"
            userdict = data / "userdict.tsv"
            if userdict.is_file():
                self.add_terms(_read_term_file(userdict.read_text(encoding="utf-8"), str(userdict)))
            glossary = data / "glossary.tsv"
            if glossary.is_file():
                self.add_terms(_read_term_file(glossary.read_text(encoding="utf-8"), str(glossary)))

    def add_terms(self, terms: Iterable[str]) -> int:
        if self.frozen is not None:
            raise PolicyIdxError(f"the analyzer of the index at {self.frozen} is read-only: to add terms, "
                                 "add the file to the corpus catalog's glossary and rebuild the index")
        added = 0
        with self.lock:
            for raw in terms:
                term = unify(normalize_width(raw.strip())).lower()
                # Phrases with punctuation or spaces (glossary entries such as
                # 专精特新“小巨人”企业) would glue tokens across punctuation: skip them.
                if len(term) < 2 or term in self.terms or not all(c.isalnum() or c in "・-" for c in term):
                    continue
                self.terms.add(term)
                for i in range(1, len(term) + 1):
                    self.prefixes.add(term[:i])
                if self._jieba is not None:
                    self._add_to_jieba(term)
                added += 1
        return added

    def _add_to_jieba(self, term: str) -> None:
        if _KANA_RE.search(term):
            return  # a Japanese rendering: jieba never sees kana in Chinese text
        if self._base_jieba is not None:
            parts = tuple(w for w in self._base_jieba.cut(term, HMM=False))  # type: ignore[attr-defined]
            if len(parts) > 1:
                self.parts[term] = parts
        self._jieba.add_word(term)  # type: ignore[attr-defined]


@contextlib.contextmanager
def _quiet_jieba() -> Iterator[None]:
    # jieba logs "Building prefix dict..." to stderr at DEBUG level on first use.
    logger = logging.getLogger("jieba")
    old = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(old)


def _clone_jieba(base: object) -> object:
    import jieba

    tok = jieba.Tokenizer()
    tok.FREQ = dict(base.FREQ)  # type: ignore[attr-defined]
    tok.total = base.total  # type: ignore[attr-defined]
    tok.user_word_tag_tab = dict(base.user_word_tag_tab)  # type: ignore[attr-defined]
    tok.initialized = True
    return tok


def _frozen_jieba(directory: str, total: int, words: int) -> object:
    """A jieba tokenizer over a segmenter cache: no dictionary to load, nothing to add."""
    from .segcache import FrozenFreq

    try:
        import jieba
    except ImportError as exc:  # pragma: no cover - hard dependency
        raise MissingDependencyError("Chinese segmentation needs jieba: `pip install jieba`") from exc
    tok = jieba.Tokenizer()
    tok.FREQ = FrozenFreq(Path(directory), words)
    tok.total = total
    tok.initialized = True
    return tok


def _new_jieba() -> object:
    try:
        import jieba
    except ImportError as exc:  # pragma: no cover - hard dependency
        raise MissingDependencyError("Chinese segmentation needs jieba: `pip install jieba`") from exc
    with _quiet_jieba():
        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        tok.initialize()
    return tok


def _new_mecab() -> object:
    try:
        import fugashi
        import unidic_lite
    except ImportError as exc:  # pragma: no cover - hard dependency
        raise MissingDependencyError(
            "Japanese segmentation needs fugashi and unidic-lite: `pip install fugashi unidic-lite`"
        ) from exc
    dicdir = unidic_lite.DICDIR
    rc = os.path.join(dicdir, "mecabrc")
    # Our own output format: surface, coarse part of speech, orthographic base form.
    # Parsing MeCab's text output is ~3x faster than reading fugashi node objects.
    args = (
        f'-d "{dicdir}" -r "{rc}" -O "" '
        r'-F "%m\t%f[0]\t%f[10]\n" -U "%m\t%f[0]\t\n" -E ""'
    )
    return fugashi.GenericTagger(args)


def _read_term_file(text: str, origin: str) -> list[str]:
    """Terms of a ``term<TAB>lang`` file or of a glossary TSV with ``zh``/``ja`` columns."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    header = [h.strip().lower() for h in lines[0].split("\t")]
    terms: list[str] = []
    known = {"zh", "ja", "en", "domain", "notes"}
    if set(header) <= known and ("zh" in header or "ja" in header):
        reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
        if reader.fieldnames is None:
            return []
        reader.fieldnames = [f.strip().lower() for f in reader.fieldnames]
        for row in reader:
            for col in ("zh", "ja"):
                value = row.get(col) or ""
                terms.extend(v.strip() for v in value.split("|") if v.strip())
        return terms
    for n, line in enumerate(lines, 1):
        cols = line.split("\t")
        term = cols[0].strip()
        if len(cols) > 1 and cols[1].strip() and cols[1].strip() not in ("zh", "ja", "en"):
            raise PolicyIdxError(
                f"{origin}, line {n}: expected 'term<TAB>lang' with lang zh, ja or en, "
                f"found lang {cols[1].strip()!r}; fix the line or leave the column empty"
            )
        if term:
            terms.append(term)
    return terms


_LEX = _Lexicon()  # the process default: scripts' load_user_terms; an index has its own Analyzer
_CURRENT: contextvars.ContextVar[_Lexicon | None] = contextvars.ContextVar("policyidx_lexicon", default=None)


def _lex() -> _Lexicon:
    """The lexicon in effect: that of the active :class:`Analyzer`, else the process default."""
    return _CURRENT.get() or _LEX


def load_user_terms(path: str | os.PathLike[str]) -> int:
    """Add domain terms from a file to the segmenters' dictionary.

    Parameters
    ----------
    path : str or PathLike
        A UTF-8 text file, either ``term<TAB>lang`` per line (``lang`` optional, ``#``
        comments allowed) or a glossary TSV whose header names ``zh`` and/or ``ja``
        columns (several renderings separated by ``|``).

    Returns
    -------
    int
        How many new terms were added.

    Raises
    ------
    PolicyIdxError
        If the file cannot be read or a line names an unknown language.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyIdxError(
            f"cannot read user terms from {os.fspath(path)!r}: {exc}; "
            "give a UTF-8 text file with one term per line"
        ) from exc
    lex = _lex()
    lex.ensure_terms()
    return lex.add_terms(_read_term_file(text, os.fspath(path)))


def user_terms() -> frozenset[str]:
    """The unified forms of all domain terms currently loaded."""
    lex = _lex()
    lex.ensure_terms()
    return frozenset(lex.terms)


# --------------------------------------------------------------------------- tokenize


def _is_word(s: str) -> bool:
    """True if ``s`` has at least one letter or digit (not only punctuation/space)."""
    for c in s:
        if c.isalnum():
            return True
    return False


def _zh_spans(text: str) -> list[tuple[str, int, int]]:
    """jieba tokens of ``text`` (already unified) with offsets."""
    tok = _lex().jieba()
    out = []
    pos = 0
    for word in tok.cut(text, HMM=False):  # type: ignore[attr-defined]
        end = pos + len(word)
        out.append((word, pos, end))
        pos = end
    return out


def _ja_rows(text: str) -> list[tuple[str, int, int, str, str]]:
    """MeCab tokens (surface, start, end, pos, base) with offsets into ``text``."""
    tagger = _lex().mecab()
    out: list[tuple[str, int, int, str, str]] = []
    pos = 0
    # MeCab skips white space between tokens without reporting it, so each surface is
    # found again in the text from the current position.
    for line in tagger.parse(text).split("\n"):  # type: ignore[attr-defined]
        if not line:
            continue
        surface, pos1, base = (line.split("\t") + ["", ""])[:3]
        start = text.find(surface, pos)
        if start < 0:  # pragma: no cover - MeCab returns input bytes unchanged
            continue
        end = start + len(surface)
        out.append((surface, start, end, pos1, base))
        pos = end
    return out


def _merge_ja(rows: list[tuple[str, int, int, str, str]], normed: str) -> list[tuple[int, int, int, int]]:
    """Greedy longest-match merge of contiguous tokens that spell a domain term.

    Returns (first_row, last_row_exclusive, start, end) groups covering all rows.
    """
    lex = _lex()
    terms, prefixes = lex.terms, lex.prefixes
    groups = []
    i, n = 0, len(rows)
    while i < n:
        best = i + 1
        _, start, end, _, _ = rows[i]
        if normed[start:end] in prefixes:
            j = i + 1
            cur_end = end
            while j < n and rows[j][1] == cur_end:
                cand = normed[start : rows[j][2]]
                if cand not in prefixes:
                    break
                cur_end = rows[j][2]
                j += 1
                if cand in terms:
                    best = j
        groups.append((i, best, start, rows[best - 1][2]))
        i = best
    return groups


def _en_spans(text: str) -> list[tuple[str, int, int]]:
    low = text.lower() if text.isascii() else None
    if low is None:
        return [(m.group(), m.start(), m.end()) for m in re.finditer(r"[A-Za-z0-9]+(?:[.'][A-Za-z0-9]+)*", text)]
    return [(text[m.start() : m.end()], m.start(), m.end()) for m in _EN_WORD_RE.finditer(low)]


def tokenize(text: str, lang: str | None = None) -> list[Token]:
    """Split ``text`` into tokens with offsets.

    Every character of ``text`` that is not white space belongs to exactly one token;
    punctuation tokens are kept (``analyze`` drops them).

    Parameters
    ----------
    text : str
        The text, as stored (offsets are into this string).
    lang : {"zh", "ja", "en"} or None
        Segmenter to use; None detects it with :func:`detect_lang`.

    Returns
    -------
    list of Token
        In text order; ``text[t.start:t.end] == t.surface``.

    Raises
    ------
    QueryError
        If ``lang`` is not one of the supported languages.
    """
    lang = _check_lang(lang, text)
    folded = normalize_width(text)
    normed = unify(folded)
    tokens: list[Token] = []
    if lang == "zh":
        # jieba's dictionary is Simplified: segment the unified text (same length).
        for _, s, e in _zh_spans(normed):
            surface = text[s:e]
            if surface.isspace():
                continue
            tokens.append(Token(surface, s, e, normed[s:e].lower()))
    elif lang == "ja":
        # MeCab's dictionary is Japanese: segment the original forms, unify afterwards.
        rows = _ja_rows(folded)
        for i, j, s, e in _merge_ja(rows, normed):
            if j - i == 1:
                _, _, _, pos1, base = rows[i]
                norm = normed[s:e]
                if pos1 in _JA_BASE_POS and base and base != "*":
                    norm = unify(base)
            else:
                norm = normed[s:e]
            tokens.append(Token(text[s:e], s, e, norm.lower()))
    else:
        for _, s, e in _en_spans(folded):
            tokens.append(Token(text[s:e], s, e, _en_stem(folded[s:e].lower())))
    return tokens


# --------------------------------------------------------------------------- analyze


def _bridge(normed: str) -> list[str]:
    out = []
    for m in _HAN_RUN_RE.finditer(normed):
        run = m.group()
        out.extend(BRIDGE_PREFIX + run[i : i + 2] for i in range(len(run) - 1))
    return out


def _word_terms(words: list[tuple[str, int, int]], stop: frozenset[str]) -> list[str]:
    """Content terms of (norm, start, end) words: numbers merged and rewritten, stopwords
    and punctuation dropped, domain compounds followed by their parts."""
    out: list[str] = []
    lex = _lex()
    parts = lex.compound_parts()
    terms = lex.terms
    i, n = 0, len(words)
    while i < n:
        w, s, e = words[i]
        if w and w[0] in _NUM_CHARS and all(c in _NUM_CHARS for c in w):
            # Glue a number split over several tokens (二 / 〇 / 二三年, 1 / . / 5).
            j = i + 1
            cur = w
            while j < n and words[j][1] == e:
                nxt = words[j][0]
                if not nxt or not all(c in _NUM_CHARS for c in nxt[:-1]) or (
                    nxt[-1] not in _NUM_CHARS and nxt[-1] not in _CLASSIFIERS
                ):
                    break
                cur += nxt
                e = words[j][2]
                j += 1
                if nxt[-1] not in _NUM_CHARS:
                    break
            nums = _number_terms(cur)
            if nums is not None:
                out.extend(t for t in nums if t not in stop)
                i = j
                continue
            w = words[i][0]
            nums = _number_terms(w) if j > i + 1 else None
            if nums is not None:
                out.extend(t for t in nums if t not in stop)
                i += 1
                continue
        elif w and w[0] in _NUM_CHARS:
            nums = _number_terms(w)
            if nums is not None:
                out.extend(t for t in nums if t not in stop)
                i += 1
                continue
        i += 1
        if w in stop or not _is_word(w):
            continue
        if w.isascii():
            w = _en_stem(w)
            if w in _EN_STOP:
                continue
        out.append(w)
        if w in terms and w in parts:
            out.extend(p for p in parts[w] if p not in stop and _is_word(p))
    return out


def analyze(text: str, lang: str | None = None) -> list[str]:
    """The index terms of ``text`` for the keyword index.

    Word terms are the normalised content words (punctuation, white space and function
    words dropped, numbers rewritten with digits: ``四件`` and ``4件`` both give ``4``,
    ``件``).  Domain compounds (``专利开放许可``) are followed by their parts.  Then come
    the Han-bridge features: every bigram of each run of unified Han characters, prefixed
    with :data:`BRIDGE_PREFIX`, so that Chinese and Japanese texts meet without a model.

    Parameters
    ----------
    text : str
        A clause, a sentence or a query.
    lang : {"zh", "ja", "en"} or None
        The language; None detects it.

    Returns
    -------
    list of str
        Terms with repetitions (term frequency matters to BM25), words first.

    Raises
    ------
    QueryError
        If ``lang`` is not one of the supported languages.
    """
    lang = _check_lang(lang, text)
    folded = normalize_width(text)
    normed = unify(folded)
    low = normed.lower()
    if lang == "zh":
        words = [(w, s, e) for w, s, e in _zh_spans(low)]
        terms = _word_terms(words, _ZH_STOP)
    elif lang == "ja":
        rows = _ja_rows(folded)
        groups = _merge_ja(rows, low)
        words = []
        extra: dict[int, list[str]] = {}
        for i, j, s, e in groups:
            if j - i == 1:
                _, _, _, pos1, base = rows[i]
                if pos1 in _JA_DROP_POS:
                    continue
                if pos1 in _JA_BASE_POS and base and base != "*":
                    words.append((unify(base).lower(), s, e))
                    continue
                words.append((low[s:e], s, e))
            else:
                words.append((low[s:e], s, e))
                extra[len(words) - 1] = [
                    low[rows[k][1] : rows[k][2]] for k in range(i, j) if rows[k][3] not in _JA_DROP_POS
                ]
        terms = _word_terms(words, _JA_STOP)
        if extra:
            for parts in extra.values():
                terms.extend(p for p in parts if p not in _JA_STOP and _is_word(p))
    else:
        words = [(w, s, e) for w, s, e in _en_spans(low)]
        terms = [_en_stem(w) for w, _, _ in words if w not in _EN_STOP]
        terms = [t for t in terms if t not in _EN_STOP]
    terms.extend(_bridge(normed))
    return terms


_KANA = re.compile("[\u3040-\u30ff]")


class LazyTerms:
    """The set of :func:`analyze` terms of a short text (a clause's context: its document's
    title and headings), analysed only where asked about a term that could be there.

    ``term in terms`` answers as ``term in frozenset(analyze(text, lang))`` would.  A Chinese
    or Japanese text is read as its parts between spaces (no term spans a space: the
    segmenters, the Han-bridge bigrams and the numbers all stop there), each segmented only
    when a term asked about could be in it: every Chinese index term of a part (a word, a
    part of a compound, a Han-bridge bigram without its prefix), and every Japanese one
    without kana, is a substring of the part normalised as :func:`analyze` normalises it; a
    term of ASCII letters or digits (an English stem, a number) needs a letter, a digit or a
    numeral in it; a Japanese term with kana (a dictionary form: 定める for 定め) may be in
    any part.  ``cache`` ((language, part) -> its terms) lets the contexts of one document share their
    title's segmentation.  The hybrid mode asks about the contexts of its 200 candidates,
    most of which hold none of the query's words: a fresh process then segments a few titles
    and headings, not all.
    """

    __slots__ = ("text", "lang", "_parts", "_cache", "_terms")

    def __init__(self, text: str, lang: str, cache: dict[tuple[str, str], frozenset[str]] | None = None):
        self.text, self.lang = text, lang
        self._parts: list[tuple[str, str, bool]] | None = None  # (part, normalised, has ASCII or a numeral)
        self._cache = cache if cache is not None else {}
        self._terms: frozenset[str] | None = None if text else frozenset()

    def _part_terms(self, part: str) -> frozenset[str]:
        key = (self.lang, part)
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = frozenset(analyze(part, self.lang))
        return got

    def __contains__(self, term: object) -> bool:
        if not isinstance(term, str):
            return False
        if self._terms is not None:
            return term in self._terms
        if self.lang not in ("zh", "ja"):
            self._terms = frozenset(analyze(self.text, self.lang))
            return term in self._terms
        if self._parts is None:
            parts = []  # made whole before it is seen: searches on several threads share contexts
            for part in self.text.split(" "):
                if part:
                    low = unify(normalize_width(part)).lower()
                    parts.append((part, low, any(c.isascii() and c.isalnum() or c in _NUM_CHARS for c in low)))
            self._parts = parts
        chars = term[len(BRIDGE_PREFIX):] if term.startswith(BRIDGE_PREFIX) else term
        if chars.isascii():
            return any(term in self._part_terms(part) for part, _low, num in self._parts if num)
        if self.lang == "ja" and _KANA.search(chars):
            # a Japanese word in kana is its dictionary form (定める for 定め): any part may hold it
            return any(term in self._part_terms(part) for part, _low, _num in self._parts)
        return any(term in self._part_terms(part) for part, low, _num in self._parts if chars in low)

    @property
    def analysed(self) -> int:
        """How many parts of the text are segmented, here or by a context sharing the cache
        (for tests and profiling)."""
        if self._terms is not None:
            return 1
        return sum(1 for part, _l, _n in self._parts or () if (self.lang, part) in self._cache)


def analyze_query(
    text: str, lang: str | None = None, bridge_weight: float = BRIDGE_WEIGHT
) -> dict[str, float]:
    """Weighted query terms for :meth:`policyidx.keyword.BM25Index.search`.

    Parameters
    ----------
    text : str
        The query.
    lang : {"zh", "ja", "en"} or None
        The query's language; None detects it.
    bridge_weight : float
        Weight of each Han-bridge feature; word terms weigh 1.0.  The bridge features are
        weaker evidence (a shared bigram can be chance) but they are all a cross-language
        query has, so they are down-weighted rather than dropped.

    Returns
    -------
    dict
        Term -> weight; a term occurring twice counts twice.  Empty for a query without
        any content word or Han character.  A Chinese query's question frame (什么, 多少,
        能不能 …) gives no terms (:func:`zh_question_frame`).
    """
    lang = _check_lang(lang, text)
    if lang == "zh":
        text = zh_question_frame(text)
    weights: dict[str, float] = {}
    for term in analyze(text, lang):
        w = bridge_weight if term.startswith(BRIDGE_PREFIX) else 1.0
        weights[term] = weights.get(term, 0.0) + w
    return weights


def zh_question_frame(text: str) -> str:
    """``text`` with the frame of a Chinese question blanked out: each word of
    :data:`ZH_QUESTION_FRAME` (a jieba token) becomes spaces, and an A-not-A question keeps its
    verb (``能不能`` -> ``能``, ``需不需要`` -> ``需要``); a noun of :data:`ZH_FRAME_NOUNS` right
    after a frame word goes with it (多少钱, 什么时候).  The result has the length of ``text``,
    so offsets into it are offsets into ``text``; a text without a frame comes back unchanged.

    The frame says what kind of answer is wanted, not what it is about: as query terms, 什么 and
    多少 rank the clauses that happen to use them (mostly other questions and notes), and their
    Han bigrams meet Japanese text by chance.
    """
    out = _A_NOT_A.sub(lambda m: "  " + m.group(1), text)
    normed = unify(normalize_width(out)).lower()
    if len(normed) != len(out) or not any(w in normed for w in ZH_QUESTION_FRAME):
        return out  # no frame word (unified: 什麼 is 什么): nothing to segment
    chars = list(out)
    after_frame = False
    for word, s, e in _zh_spans(normed):
        frame = word in ZH_QUESTION_FRAME
        if frame or (after_frame and word in ZH_FRAME_NOUNS):
            chars[s:e] = " " * (e - s)
        after_frame = frame
    return "".join(chars)


# --------------------------------------------------------------------------- Analyzer

#: Version of the analysis (segmentation rules, stemmer, number and bridge terms); an index
#: records it and must be rebuilt when it changes.  2: one English stemmer
#: (:mod:`policyidx.text.stem`) for index terms, queries and glossary renderings.  3: the
#: stemmer folds breame's British spellings (offence -> offense).  4: a short word keeps its
#: final e (care, site, rate: not car, sit, rat), a doubled consonant before -ing or -ed is undone.
#: 5: -eed is cut to -ee as Porter's step 1b does (agreed, agree; exceeds, exceeding: one
#: stem), -ing and -ed only after a vowel (spring stays), news, series, species stay whole.
ANALYZER_VERSION = 5


def _file_terms(path: str | os.PathLike[str]) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyIdxError(
            f"cannot read user terms from {os.fspath(path)!r}: {exc}; "
            "give a UTF-8 text file with one term per line"
        ) from exc
    return _read_term_file(text, os.fspath(path))


class Analyzer:
    """How text becomes tokens and index terms: the segmenters (jieba, MeCab), a domain
    dictionary (the bundled terms plus ``term_files``) and the English stemmer.

    An index owns one, built from the term files its manifest names, so two indexes in one
    process never change each other's segmentation.  Its methods are :func:`tokenize`,
    :func:`analyze` and :func:`analyze_query` with this analyzer's dictionary; inside
    ``with analyzer.active():`` the module-level functions use it too (in this thread or
    task, and in processes forked from it).

    Parameters
    ----------
    term_files
        User term files (see :func:`load_user_terms`); a missing file is skipped and
        reported by :attr:`missing_files`.
    """

    def __init__(self, term_files: Iterable[str | os.PathLike[str]] = ()):
        self._lex = _Lexicon()
        self._lex.ensure_terms()
        self.term_files: list[str] = []
        self.missing_files: list[str] = []
        for f in term_files:
            path = os.fspath(f)
            if not os.path.isfile(path):
                self.missing_files.append(path)
                continue
            self._lex.add_terms(_file_terms(path))
            self.term_files.append(path)

    @classmethod
    def load(cls, directory: str | os.PathLike[str], description: dict | None = None) -> Analyzer:
        """The analyzer saved by :meth:`save` in ``directory`` (read-only: it segments as
        the saved one did, without loading jieba's dictionary)."""
        an = cls.__new__(cls)
        an._lex = _Lexicon(frozen=directory)
        desc = description or {}
        an.term_files = list(desc.get("term_files", []))
        an.missing_files = []
        return an

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Store this analyzer's segmenter state in ``directory`` (see
        :mod:`policyidx.text.segcache`); :meth:`load` reads it back."""
        from .segcache import save_jieba

        lex = self._lex
        tok = lex.jieba()
        with lex.lock:
            save_jieba(Path(directory), tok.FREQ, tok.total, sorted(lex.terms), dict(lex.parts))  # type: ignore[attr-defined]

    @property
    def read_only(self) -> bool:
        """Loaded from an index's segmenter cache."""
        return self._lex.frozen is not None

    @classmethod
    def for_files(cls, term_files: Iterable[str | os.PathLike[str]] = ()) -> Analyzer:
        """An analyzer for these term files, shared with every caller asking for the same
        files unchanged (building one costs the segmenters' set-up)."""
        files = tuple(os.path.abspath(os.fspath(f)) for f in term_files)
        key = tuple((f, *_stat(f)) for f in files)
        with _ANALYZERS_LOCK:
            an = _ANALYZERS.get(key)
            if an is None:
                an = _ANALYZERS[key] = cls(files)
        return an

    @contextlib.contextmanager
    def active(self) -> Iterator[Analyzer]:
        """Make this analyzer the one the module-level functions use, for the block."""
        token = _CURRENT.set(self._lex)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def tokenize(self, text: str, lang: str | None = None) -> list[Token]:
        """:func:`tokenize` with this analyzer's dictionary."""
        with self.active():
            return tokenize(text, lang)

    def analyze(self, text: str, lang: str | None = None) -> list[str]:
        """:func:`analyze` with this analyzer's dictionary."""
        with self.active():
            return analyze(text, lang)

    def analyze_query(self, text: str, lang: str | None = None, bridge_weight: float = BRIDGE_WEIGHT) -> dict[str, float]:
        """:func:`analyze_query` with this analyzer's dictionary."""
        with self.active():
            return analyze_query(text, lang, bridge_weight)

    @property
    def terms(self) -> frozenset[str]:
        """The unified forms of the domain terms (bundled and from the term files)."""
        return frozenset(self._lex.terms)

    def describe(self) -> dict[str, object]:
        """What an index records about its analysis (``manifest.json``: ``analyzer``)."""
        terms = sorted(self._lex.terms)
        digest = hashlib.sha256("\n".join(terms).encode("utf-8")).hexdigest()[:16]
        return {
            "name": "policyidx",
            "version": ANALYZER_VERSION,
            "segmenters": {"zh": f"jieba {_version('jieba')}", "ja": f"mecab unidic-lite {_version('unidic-lite')}"},
            "stemmer": "policyidx.text.stem",
            "term_files": list(self.term_files),
            "terms": len(terms),
            "terms_fingerprint": digest,
        }

    def __repr__(self) -> str:
        return f"Analyzer({len(self._lex.terms)} domain terms, term_files={self.term_files!r})"


_ANALYZERS: dict[tuple, Analyzer] = {}
_ANALYZERS_LOCK = threading.Lock()


def _stat(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
        return st.st_mtime_ns, st.st_size
    except OSError:
        return 0, -1


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # noqa: BLE001 - metadata is only descriptive
        return "?"
