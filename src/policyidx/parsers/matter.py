"""Front and back matter: the parts of a document around its numbered body, and their facts.

Every part is a clause of its own under ``0`` (front) or ``back`` (back matter), numbered by
role so that the same role has the same id in every document and language:

=====  ==================  ==============================================================
 n     style               what
=====  ==================  ==============================================================
 1     ``notice``          header notes before the title (JETRO's notice, gov.cn's box)
 2     ``title``           the title
 3     ``preamble``        text after the title, before the first numbered clause
 4     ``record``          the promulgation record: adopted / promulgated / amended /
                           effective, order numbers (``国务院令第706号``)
 5     ``doc-number``      the document number (``国知发运字〔2022〕38号``)
 6     ``addressees``      ``各省、自治区、直辖市人民政府：``
 7     ``signature``       the issuing bodies at the end (or head) of a notice
 8     ``date``            the date of signature
 9     ``attachment-list`` ``附件：1. …``
 10    ``cc``              ``抄送：…``
 11    ``printed``         ``…办公厅 2022年1月5日印发``
 12    ``back-text``       anything else after the body
=====  ==================  ==============================================================

Attachments (``附件1`` and the text under it) are roots of their own: ``att1``, ``att2``...
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..model import DatedEvent
from ..text.numerals import parse_numeral
from .layout import is_signature_line

if TYPE_CHECKING:  # pragma: no cover
    from .structure import ParseResult

__all__ = ["FRONT_ROLES", "matter_role", "record_facts", "find_dates", "is_attachment_heading", "ROLE", "split_addressees", "names_organ"]

FRONT_ROLES = {
    1: "notice", 2: "title", 3: "preamble", 4: "record", 5: "doc-number", 6: "addressees", 7: "signature",
    8: "date", 9: "attachment-list", 10: "cc", 11: "printed", 12: "back-text",
}
ROLE = {v: k for k, v in FRONT_ROLES.items()}

_CN_D = "〇零○一二三四五六七八九"
_DATE = re.compile(
    rf"(?P<y>\d{{4}}|[{_CN_D}]{{4}})\s*年\s*(?P<m>\d{{1,2}}|[{_CN_D}十]{{1,3}})\s*月\s*(?P<d>\d{{1,2}}|[{_CN_D}十]{{1,3}})\s*日"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
)
_DATE_ONLY = re.compile(rf"^\s*(?:{_DATE.pattern})\s*$")
_KINDS = [
    ("adopted", re.compile(r"通过|通過|採択")),
    ("amended", re.compile(r"修正|修订|修訂|修改|改正")),
    ("promulgated", re.compile(r"公布|公佈|发布|發布|發佈|颁布|頒布|頒佈|印发|印發|発布|公表")),
    ("effective", re.compile(r"施行|生效|実施")),
    ("approved", re.compile(r"批准")),
    ("repealed", re.compile(r"废止|廢止")),
]
_ORDER = re.compile(r"([\u4e00-\u9fff]{0,24})令\s*[（(]?\s*第\s*([0-9０-９]+|[一二三四五六七八九十百千〇零两]+)\s*[号號]\s*[）)]?")


def _order_number(m: re.Match[str]) -> str:
    """The order number of an :data:`_ORDER` match, without the words before the issuer."""
    prefix = m.group(1)
    for state in ("中华人民共和国", "中華人民共和國"):
        if state in prefix:
            prefix = prefix[prefix.index(state) :]
            break
    else:
        prefix = re.split(r"[日月年以经經]", prefix)[-1]
    return re.sub(r"\s+", "", prefix + m.group()[len(m.group(1)) :]).strip("（）()")
_DOCNUM = re.compile(r"^[\u4e00-\u9fff]{2,14}\s*[〔\[［【(（]\s*\d{4}\s*[〕\]］】)）]\s*(?:第\s*)?\d{1,4}\s*号$")
_ATTACH_LIST = re.compile(r"^(?:附件|附表|附:|附：)\s*[:：]")
_ATTACH_HEAD = re.compile(r"^(?:附件|附表)\s*([0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})?\s*[:：]?\s*$")
_ATTACH_HEAD_TITLE = re.compile(r"^(?:附件|附表)\s*([0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})\s*[:：　 ]\s*\S")
_CC = re.compile(r"^(?:抄送|抄报|分送|抄　送)\s*[:：]")
_PRINTED = re.compile(r"印发\s*$|印發\s*$")


def iso_date(m: re.Match[str]) -> str | None:
    """An ISO date from a :data:`_DATE` match (digits or Chinese numerals)."""
    if m.group("iy"):
        y, mo, d = int(m.group("iy")), int(m.group("im")), int(m.group("id"))
    else:
        y, mo, d = parse_numeral(m.group("y")), parse_numeral(m.group("m")), parse_numeral(m.group("d"))
        if y is None or mo is None or d is None:
            return None
    if not (1800 <= y <= 2200 and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """Every date in ``text`` as (start, end, ISO date)."""
    out = []
    for m in _DATE.finditer(text):
        if (d := iso_date(m)) is not None:
            out.append((m.start(), m.end(), d))
    return out


def is_date_line(text: str) -> bool:
    """A date alone on a line (``2022年1月5日``, ``二〇二二年一月五日``, ``2022-01-05``)."""
    m = _DATE_ONLY.match(text)
    return bool(m) and find_dates(text) != []


def is_record(text: str) -> bool:
    """A line of the promulgation record: dates with what happened on them, or an order number."""
    if len(text) > 500:
        return False
    t = text.strip()
    if _ORDER.fullmatch(t.strip("（）() ")) or (_ORDER.match(t) and len(t) <= 40):
        return True
    dates = find_dates(t)
    if not dates:
        return False
    bracketed = t[:1] in "（(" and t[-1:] in "）)"
    if "。" in t and not bracketed:
        return False
    rest = t[dates[0][1] :]
    return any(p.search(rest[:80]) for _, p in _KINDS) and (bracketed or dates[0][0] <= 2)


def is_attachment_heading(text: str) -> bool:
    """``附件1`` / ``附件`` alone, or ``附件1：title``: the start of an attachment's text."""
    return bool(_ATTACH_HEAD.match(text) or _ATTACH_HEAD_TITLE.match(text))


def matter_role(text: str) -> int | None:
    """The role number of a front/back matter line that is recognisable on its own, else ``None``."""
    t = text.strip()
    if not t:
        return None
    if is_date_line(t):
        return 8
    if _DOCNUM.match(t):
        return 5
    if _CC.match(t):
        return 10
    if _ATTACH_LIST.match(t):
        return 9
    if _PRINTED.search(t) and find_dates(t) and len(t) <= 60:
        return 11
    if is_record(t):
        return 4
    if is_signature_line(t):
        return 7
    return None


def record_facts(text: str, res: ParseResult) -> None:
    """Dates with their kind, order number and document number found in a front/back matter line."""
    t = text.strip()
    if res.order_number is None and (m := _ORDER.search(t)) and len(t) <= 200:
        res.order_number = _order_number(m)
    if res.doc_number is None and _DOCNUM.match(t):
        res.doc_number = re.sub(r"\s+", "", t)
    if not is_record(t):
        return
    dates = find_dates(t)
    for k, (s, e, d) in enumerate(dates):
        nxt = dates[k + 1][0] if k + 1 < len(dates) else len(t)
        seg = t[e:nxt]
        best: tuple[int, str] | None = None
        for kind, pat in _KINDS:
            if (m := pat.search(seg)) and (best is None or m.start() < best[0]):
                best = (m.start(), kind)
        if best is None:
            continue
        kind = best[1]
        by = seg[: best[0]].strip(" 　，,")
        by = re.sub(r"^(?:起|由|经|經)", "", by).strip() or None
        res.record.append(DatedEvent(kind=kind, date=d, by=by, text=t[s : e + best[0] + 2].strip()))
        if kind == "amended":
            res.dates["amended"] = d  # the latest amendment
        else:
            res.dates.setdefault(kind, d)


def is_back_start(blocks_text: list[str], k: int) -> bool:
    """Whether block ``k`` starts the back matter of a notice (signature + date, attachment list, cc)."""
    t = blocks_text[k]
    if _ATTACH_LIST.match(t) or _CC.match(t):
        return True
    if is_signature_line(t):
        return any(is_date_line(x) for x in blocks_text[k + 1 : k + 3])
    if is_date_line(t):
        return True
    return False


# the head noun of an organ or a group of organs: what a complete addressee ends with
_ORGANS = (
    "局|部|厅|廳|委|院|府|会|會|室|办|辦|处|處|署|司|所|站|中心|单位|單位|机构|機構|机关|機關|组织|組織|团体|團體|企业|企業|"
    "学校|学院|大学|公司|集团|集團|银行|銀行|协会|協會|兵团|兵團|部门|部門|军区|軍區|機関|団体|庁|センター|事務所"
)
_ORGAN_END = re.compile(rf"(?:{_ORGANS})(?:[（(][^（）()]*[）)])?$")


def names_organ(text: str) -> bool:
    """Whether ``text`` ends with the name of an organ (``…主管部门``, ``…局``, ``…団体（連合会）``)."""
    return _ORGAN_END.search(text.strip()) is not None


def split_addressees(line: str, lang: str = "zh") -> list[str]:
    """The addressees of an addressee line (``各省、自治区、直辖市人民政府，国务院各部委：``).

    The line is split at its top-level separator only: ``；`` if it has one, else ``，`` / ``,``
    (between addressees).  ``、`` (and Japanese ``・``) lists the parts of *one* addressee when
    they share its head noun: ``各省、自治区、直辖市人民政府`` is the governments of each province,
    region and municipality, one addressee.  So a line separated by ``、`` alone is cut after each
    piece that names an organ on its own (ends with 部, 局, 厅, 委员会, 单位, 部门, 機関...), and a
    piece that does not (``各省``, ``自治区``) goes with the pieces after it:
    ``各省、自治区、直辖市知识产权局、工业和信息化主管部门`` is two addressees.  JETRO's
    translations keep the Chinese ``、``, so Japanese lines are read alike.
    """
    t = line.strip().removesuffix("御中").strip().rstrip("：:").strip()
    if not t:
        return []
    for seps in ("；;", "，,"):
        if any(ch in t for ch in seps):
            return [p.strip() for p in re.split(f"[{seps}]", t) if p.strip()]
    out: list[str] = []
    group: list[str] = []
    for piece in t.split("、"):
        group.append(piece)
        if _ORGAN_END.search(piece.strip()):
            out.append("、".join(group).strip())
            group = []
    if group:  # a tail that names no organ belongs to the addressee before it
        if out:
            out[-1] = out[-1] + "、" + "、".join(group)
        else:
            out.append("、".join(group).strip())
    return [p for p in out if p]
