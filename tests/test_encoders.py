"""Tests of policyidx.retrieval.encoders: the builtin LSA encoder and the sentence-transformers wrapper."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from policyidx.retrieval.encoders import (
    ST_INSTALL_COMMAND,
    BuiltinEncoder,
    Encoder,
    SentenceTransformerEncoder,
    _truncated_svd,
    default_prefixes,
    get_encoder,
    load_encoder,
)
from policyidx.errors import EncoderError, MissingDependencyError

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

# A measure paragraph of the Japanese translation starts with its number in brackets.
_ITEM = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]\s*\S")


def corpus_paragraphs(pattern: str = "*/*.txt") -> list[str]:
    """Blank-line separated paragraphs of the bundled corpus files, crudely (no parser)."""
    out = []
    for path in sorted(CORPUS.glob(pattern)):
        for para in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            para = para.strip()
            if len(para) >= 20:
                out.append(para)
    return out


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    from policyidx.text.analysis import analyze

    # Warm both segmenters first.  At the time of writing, analysis.py's very first call in
    # a process can segment a Japanese text differently from later calls (domain terms
    # loaded before jieba exists get no sub-parts), which would make the first fit differ
    # from the second for reasons outside the encoder.
    analyze("专利开放许可", lang="zh")
    analyze("専利開放許諾", lang="ja")
    return corpus_paragraphs()


@pytest.fixture(scope="module")
def fitted(paragraphs: list[str]) -> BuiltinEncoder:
    return BuiltinEncoder().fit(paragraphs, dim=256, seed=0)


@pytest.fixture(scope="module")
def measures() -> dict[str, str]:
    """The sixteen measures of cnipa-2022-38.ja, keyed by their number ``(一)``..``(十六)``."""
    items = {}
    for para in corpus_paragraphs("ja/cnipa-2022-38.ja.txt"):
        m = _ITEM.match(para)
        if m:
            items[m.group(1)] = para
    assert len(items) == 16, sorted(items)
    return items


# --------------------------------------------------------------------------- builtin


def test_builtin_shapes_and_norms(fitted: BuiltinEncoder, paragraphs: list[str]) -> None:
    vecs = fitted.encode(paragraphs[:50])
    assert vecs.dtype == np.float32
    assert vecs.shape == (50, fitted.dim)
    assert 1 < fitted.dim <= 256
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert isinstance(fitted, Encoder)


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "。、「」"])
def test_builtin_featureless_text_gives_zero_row(fitted: BuiltinEncoder, text: str) -> None:
    vecs = fitted.encode([text, "知识产权"])
    assert not vecs[0].any()
    assert np.linalg.norm(vecs[1]) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    "variant, simplified",
    [
        ("専利", "专利"),  # Japanese shinjitai
        ("專利", "专利"),  # Traditional
        ("知識産権", "知识产权"),
        ("國家知識產權局", "国家知识产权局"),
    ],
)
def test_builtin_unifies_han_variants(fitted: BuiltinEncoder, variant: str, simplified: str) -> None:
    a, b = fitted.encode([variant, simplified])
    assert float(a @ b) == pytest.approx(1.0, abs=1e-5)


def test_builtin_two_fits_same_seed_identical(fitted: BuiltinEncoder, paragraphs: list[str]) -> None:
    again = BuiltinEncoder.fit(paragraphs, dim=256, seed=0)  # on the class: a new encoder
    assert again is not fitted
    sample = paragraphs[::7]
    np.testing.assert_array_equal(again.encode(sample), fitted.encode(sample))


def test_builtin_save_load_round_trip(fitted: BuiltinEncoder, paragraphs: list[str], tmp_path: Path) -> None:
    target = tmp_path / "enc"
    fitted.save(target)
    assert sorted(p.name for p in target.iterdir()) == [
        "components.npy",
        "encoder.json",
        "idf.npy",
        "vocabulary.offsets.npy",
        "vocabulary.slots.npy",
        "vocabulary.terms.npy",
    ]
    loaded = BuiltinEncoder.load(target)
    sample = paragraphs[::5] + ["专利开放许可", "開放許諾"]
    np.testing.assert_array_equal(loaded.encode(sample, kind="query"), fitted.encode(sample, kind="query"))
    # many texts switch the loaded term table to a dict: the same vectors either way
    many = (paragraphs * (1 + 300 // len(paragraphs)))[:300]
    np.testing.assert_array_equal(BuiltinEncoder.load(target).encode(many), fitted.encode(many))
    assert loaded.describe() == fitted.describe()
    # Saving again over the same directory replaces it without leaving temporary siblings.
    loaded.save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["enc"]
    reopened = load_encoder(target, json.loads(json.dumps(fitted.describe())))
    np.testing.assert_array_equal(reopened.encode(sample), fitted.encode(sample))


# Chinese sentences of CNIPA's explanation (cnipa-2022-38-jiedu.zh) and the number of the
# measure of the Japanese translation (cnipa-2022-38.ja) they summarise.
CROSS_LANGUAGE = [
    ("加大涉专精特新中小企业专利侵权行政裁决办案力度，针对企业需求，强化知识产权快速协同保护。", "八"),
    ("推进“专精特新”等中小企业知识产权经理人队伍建设，强化企业知识产权人才保障。", "十二"),
    ("实施品牌价值提升计划，加强商标品牌指导站规范管理和能力建设，打造企业和区域商标品牌发展高地。", "七"),
    ("增强知识产权质押融资等金融服务供给，助力解决中小企业“融资难”。", "六"),
    ("深入推进开放许可工作，加快建立专利常态化供需机制，助力企业精准获取、高效实施专利技术。", "四"),
    ("国家知识产权局和工业和信息化部将强化资源衔接共享、政策协调联动，联合开展督促指导，推动各项措施扎实落地。", "十四"),
]

# Japanese text of the corpus unrelated to any of the sentences above.
UNRELATED_JA = "※本資料はジェットロが作成した仮訳となります。ジェットロでは情報・データ・解釈などをできる限り正確に記載するよう努力しております"


@pytest.mark.parametrize("zh, number", CROSS_LANGUAGE)
def test_builtin_chinese_sentence_finds_its_japanese_measure(
    fitted: BuiltinEncoder, measures: dict[str, str], zh: str, number: str
) -> None:
    numbers = list(measures)
    docs = fitted.encode([measures[n] for n in numbers])
    query, unrelated = fitted.encode([zh, UNRELATED_JA], kind="query")
    sims = docs @ query
    gold = float(sims[numbers.index(number)])
    assert gold > float(unrelated @ docs[numbers.index(number)])
    assert gold > float(query @ unrelated)
    ranking = [numbers[i] for i in np.argsort(-sims)]
    assert number in ranking[:3], ranking[:5]


def test_builtin_dim_capped_by_rank() -> None:
    texts = ["知识产权保护", "知的財産権の保護", "专利开放许可"]
    enc = BuiltinEncoder().fit(texts, dim=256)
    assert enc.dim <= len(texts)
    assert enc.describe()["parameters"]["requested_dim"] == 256
    assert enc.encode(texts).shape == (3, enc.dim)


def test_builtin_hashing_mode_round_trip(paragraphs: list[str], tmp_path: Path) -> None:
    # max_vocab far below the corpus vocabulary forces the switch to hashed features.
    enc = BuiltinEncoder().fit(paragraphs, dim=64, seed=3, max_vocab=500, n_buckets=1 << 16)
    assert enc.hashing
    sample = paragraphs[:40] + ["专利开放许可"]
    vecs = enc.encode(sample)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    enc.save(tmp_path / "h")
    assert (tmp_path / "h" / "buckets.npy").exists()
    assert not list((tmp_path / "h").glob("vocabulary*"))
    np.testing.assert_array_equal(BuiltinEncoder.load(tmp_path / "h").encode(sample), vecs)


def test_builtin_max_features_prunes(paragraphs: list[str]) -> None:
    enc = BuiltinEncoder().fit(paragraphs, dim=32, max_features=1000)
    assert enc.n_features == 1000


def test_randomized_svd_matches_exact_and_is_deterministic() -> None:
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    # Low rank plus noise: the spectrum a corpus gives, not the flat one of pure noise.
    left = rng.standard_normal((600, 12))
    right = rng.standard_normal((12, 500))
    dense = (left * np.linspace(4.0, 1.0, 12)) @ right
    dense += 0.05 * rng.standard_normal(dense.shape)
    dense[np.abs(dense) < 1.5] = 0.0  # make it sparse
    matrix = sp.csr_matrix(dense.astype(np.float32))
    # exact_max=0 forces the randomized path on this small matrix.
    s1, v1 = _truncated_svd(matrix, 8, seed=5, n_iter=4, oversample=16, threads=2, exact_max=0)
    s2, v2 = _truncated_svd(matrix, 8, seed=5, n_iter=4, oversample=16, threads=2, exact_max=0)
    np.testing.assert_array_equal(v1, v2)
    _, exact_s, exact_vt = np.linalg.svd(matrix.toarray().astype(np.float64), full_matrices=False)
    np.testing.assert_allclose(s1, exact_s[:8], rtol=1e-3)
    # Same subspace: the projections of the exact top vectors onto ours keep their length.
    overlap = np.linalg.norm(exact_vt[:8] @ v1.astype(np.float64), axis=1)
    np.testing.assert_allclose(overlap, 1.0, atol=1e-3)
    # The exact path (Gram matrix) agrees too.
    s3, _ = _truncated_svd(matrix, 8, seed=5, n_iter=4, oversample=16, threads=1)
    np.testing.assert_allclose(s3, exact_s[:8], rtol=1e-6)


def test_builtin_unfitted_and_bad_input() -> None:
    enc = get_encoder("builtin")
    assert isinstance(enc, BuiltinEncoder) and not enc.fitted
    with pytest.raises(EncoderError, match="not fitted"):
        enc.encode(["专利"])
    with pytest.raises(EncoderError, match="no Han characters"):
        BuiltinEncoder().fit(["", "。。"])
    with pytest.raises(EncoderError, match="need texts="):
        get_encoder("builtin", dim=8)
    fitted = get_encoder("builtin", texts=["专利开放许可", "開放許諾の試行"], dim=8)
    assert isinstance(fitted, BuiltinEncoder) and fitted.fitted
    with pytest.raises(EncoderError, match="not one string"):
        fitted.encode("专利")
    with pytest.raises(EncoderError, match="expects strings"):
        BuiltinEncoder.fit(["专利", None])  # type: ignore[list-item]


@pytest.mark.parametrize("spec", ["", "bm25", "st:", "ST:foo"])
def test_get_encoder_unknown_spec(spec: str) -> None:
    with pytest.raises(EncoderError, match="expected 'builtin' or 'st:"):
        get_encoder(spec)


def test_builtin_load_broken_directory(tmp_path: Path, fitted: BuiltinEncoder) -> None:
    with pytest.raises(EncoderError, match="cannot load the builtin encoder"):
        BuiltinEncoder.load(tmp_path / "missing")
    fitted.save(tmp_path / "enc")
    np.save(tmp_path / "enc" / "idf.npy", np.ones(3, np.float32), allow_pickle=False)
    with pytest.raises(EncoderError, match="inconsistent"):
        BuiltinEncoder.load(tmp_path / "enc")


# --------------------------------------------------------------------------- prefixes

INSTRUCT = object()


@pytest.mark.parametrize(
    "model, expected",
    [
        ("intfloat/multilingual-e5-base", ("query: ", "passage: ")),
        ("intfloat/e5-large-v2", ("query: ", "passage: ")),
        ("/models/multilingual-e5-small", ("query: ", "passage: ")),
        ("intfloat/multilingual-e5-large-instruct", (INSTRUCT, "")),
        ("BAAI/bge-small-zh-v1.5", ("为这个句子生成表示以用于检索相关文章：", "")),
        ("BAAI/bge-base-en-v1.5", ("Represent this sentence for searching relevant passages: ", "")),
        ("BAAI/bge-m3", ("", "")),
        ("nomic-ai/nomic-embed-text-v1.5", ("search_query: ", "search_document: ")),
        ("sentence-transformers/LaBSE", ("", "")),
        ("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", ("", "")),
        ("/data/e5sh/labse", ("", "")),  # "e5" inside another word is not the e5 family
    ],
)
def test_default_prefixes(model: str, expected: tuple) -> None:
    query, passage = default_prefixes(model)
    if expected[0] is INSTRUCT:  # instruct models: a task instruction ending in "Query: "
        assert query.startswith("Instruct: ") and query.endswith("Query: ")
    else:
        assert query == expected[0]
    assert passage == expected[1]


# --------------------------------------------------------------------------- sentence-transformers


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("sentence_transformers")
    from tiny_st import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "multilingual-e5-tiny")


ST_TEXTS = [
    "关于知识产权助力专精特新中小企业创新发展的若干措施",
    "知的財産権によって専精特新中小企業の革新的な発展を支援するための若干の措置",
    "专利开放许可试点工作方案",
    "ISO 56005",
]


def test_st_encoder_shapes_and_norms(tiny_model: str) -> None:
    enc = SentenceTransformerEncoder(tiny_model, batch_size=2)
    assert isinstance(enc, Encoder)
    assert enc.name == f"st:{tiny_model}"
    assert enc.dim == 32
    vecs = enc.encode(ST_TEXTS, progress=False)
    assert vecs.dtype == np.float32 and vecs.shape == (len(ST_TEXTS), 32)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert enc.encode([]).shape == (0, 32)
    # Batching does not change the result.
    np.testing.assert_allclose(enc.encode(ST_TEXTS, batch_size=1), vecs, atol=1e-5)


def test_st_encoder_applies_e5_prefixes(tiny_model: str) -> None:
    from sentence_transformers import SentenceTransformer

    enc = SentenceTransformerEncoder(tiny_model)
    assert (enc.query_prefix, enc.passage_prefix) == ("query: ", "passage: ")
    raw = SentenceTransformer(tiny_model, device="cpu")
    for kind, prefix in [("query", "query: "), ("passage", "passage: ")]:
        expected = raw.encode([prefix + t for t in ST_TEXTS], normalize_embeddings=True)
        np.testing.assert_allclose(enc.encode(ST_TEXTS, kind=kind), expected, atol=1e-5)
    assert not np.allclose(enc.encode(ST_TEXTS[:1], kind="query"), enc.encode(ST_TEXTS[:1], kind="passage"))

    plain = SentenceTransformerEncoder(tiny_model, query_prefix="", passage_prefix="")
    np.testing.assert_allclose(
        plain.encode(ST_TEXTS, kind="query"), raw.encode(ST_TEXTS, normalize_embeddings=True), atol=1e-5
    )
    with pytest.raises(EncoderError, match="kind"):
        enc.encode(ST_TEXTS, kind="document")  # type: ignore[arg-type]


def test_st_encoder_describe_and_reload(tiny_model: str) -> None:
    enc = get_encoder(f"st:{tiny_model}", query_prefix="问：")
    desc = json.loads(json.dumps(enc.describe()))
    assert desc["name"] == f"st:{tiny_model}" and desc["dim"] == 32
    assert desc["parameters"]["query_prefix"] == "问："
    again = load_encoder(None, desc)
    np.testing.assert_array_equal(again.encode(ST_TEXTS, kind="query"), enc.encode(ST_TEXTS, kind="query"))
    desc["dim"] = 64
    with pytest.raises(EncoderError, match="64"):
        load_encoder(None, desc)


@pytest.mark.parametrize(
    "model",
    ["policyidx-test/no-such-model-zh-ja", "no-such-model-bare-name"],
)
def test_st_encoder_missing_model_names_it(model: str) -> None:
    pytest.importorskip("sentence_transformers")
    with pytest.raises(EncoderError) as info:
        SentenceTransformerEncoder(model)
    message = str(info.value)
    assert repr(model) in message
    assert "local directory" in message and "network" in message


def test_st_encoder_missing_directory_names_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "models" / "multilingual-e5-base")
    with pytest.raises(EncoderError, match="no such directory") as info:
        SentenceTransformerEncoder(missing)
    assert missing in str(info.value)


def test_st_encoder_loads_offline_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name not on disk must fail at once: local_files_only and HF_HUB_OFFLINE while loading."""
    st = pytest.importorskip("sentence_transformers")
    seen: dict[str, object] = {}

    def fake_loader(name: str, **kwargs: object) -> None:
        import os

        seen.update(kwargs, name=name, offline=os.environ.get("HF_HUB_OFFLINE"))
        raise OSError("not found in the local cache")

    monkeypatch.setattr(st, "SentenceTransformer", fake_loader)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(EncoderError, match="intfloat/multilingual-e5-base"):
        SentenceTransformerEncoder("intfloat/multilingual-e5-base")
    assert seen["local_files_only"] is True and seen["offline"] == "1"
    import os

    assert "HF_HUB_OFFLINE" not in os.environ  # restored after loading


def test_st_encoder_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # makes the import fail
    with pytest.raises(MissingDependencyError) as info:
        SentenceTransformerEncoder("intfloat/multilingual-e5-base")
    assert ST_INSTALL_COMMAND in str(info.value)
    assert ST_INSTALL_COMMAND == "pip install torch==2.13.0 && pip install sentence-transformers"


def test_single_text_encoding_equals_the_sparse_path_exactly() -> None:
    """A query is encoded without scipy, with the same arithmetic: bit-identical vectors."""
    from policyidx.corpus import Corpus
    from policyidx.retrieval.encoders import BuiltinEncoder, _l2_normalise

    texts = [c.text for c in Corpus.load().clauses() if c.text.strip()]
    enc = BuiltinEncoder().fit(texts, dim=32)
    for t in texts[:40] + ["知识产权质押融资", "専利の開放許諾", "patent", "zzz", ""]:
        one = enc.encode([t], kind="query")
        sparse = _l2_normalise(np.asarray(enc._tfidf([t]) @ enc._components, dtype=np.float32))
        assert np.array_equal(one, sparse), t


def test_builtin_defaults_width_and_power_iterations(paragraphs: list[str]) -> None:
    from policyidx.retrieval.encoders import DEFAULT_DIM

    params = BuiltinEncoder().fit(paragraphs[:60]).describe()["parameters"]
    assert params["requested_dim"] == DEFAULT_DIM
    assert params["n_iter"] == 4


def test_builtin_encoder_of_another_width_reopens(paragraphs: list[str], tmp_path: Path) -> None:
    # An index built before the default width changed keeps its encoder's own width.
    from policyidx.retrieval.encoders import DEFAULT_DIM

    enc = BuiltinEncoder().fit(paragraphs, dim=24, seed=0)
    assert enc.dim == 24 != DEFAULT_DIM
    enc.save(tmp_path / "e")
    again = load_encoder(tmp_path / "e", enc.describe())
    assert again.dim == 24
    np.testing.assert_array_equal(again.encode(paragraphs[:5]), enc.encode(paragraphs[:5]))
    with pytest.raises(EncoderError, match="24-dimensional"):
        load_encoder(tmp_path / "e", {**enc.describe(), "dim": DEFAULT_DIM})


def test_randomized_svd_two_power_iterations_find_the_subspace() -> None:
    import scipy.sparse as sp

    rng = np.random.default_rng(7)
    left = rng.standard_normal((800, 10))
    right = rng.standard_normal((10, 700))
    dense = (left * np.linspace(5.0, 1.5, 10)) @ right + 0.05 * rng.standard_normal((800, 700))
    dense[np.abs(dense) < 1.5] = 0.0
    matrix = sp.csr_matrix(dense.astype(np.float32))
    s, v = _truncated_svd(matrix, 6, seed=2, n_iter=2, oversample=16, threads=2, exact_max=0)
    _, exact_s, exact_vt = np.linalg.svd(matrix.toarray().astype(np.float64), full_matrices=False)
    np.testing.assert_allclose(s, exact_s[:6], rtol=1e-2)
    overlap = np.linalg.norm(exact_vt[:6] @ v.astype(np.float64), axis=1)
    np.testing.assert_allclose(overlap, 1.0, atol=1e-2)
