"""Build a tiny, randomly initialised sentence-transformers model on disk, offline.

The tests of :class:`policyidx.retrieval.encoders.SentenceTransformerEncoder` need a real
``SentenceTransformer`` directory but may not download anything.  This helper writes one:
a WordPiece vocabulary covering the characters of the bundled corpus, a two-layer BERT with
32 hidden units and a mean-pooling head.  Its embeddings carry no meaning; they only let
the tests check shapes, norms, batching and prefix handling.
"""

from __future__ import annotations

import inspect
import os
import string
from pathlib import Path

__all__ = ["build_tiny_model", "CORPUS_DIR"]

CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpus"

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Characters every test string may use even if the corpus lacks them: kana blocks and
# full-width punctuation.  Han characters come from the corpus itself.
_EXTRA = (
    "".join(chr(c) for c in range(0x3041, 0x3097))  # hiragana
    + "".join(chr(c) for c in range(0x30A1, 0x30FB))  # katakana
    + "ー、。，．：；！？「」『』（）《》〔〕【】・"
)


def _is_han(ch: str) -> bool:
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF


def _corpus_chars() -> set[str]:
    chars: set[str] = set()
    for path in sorted(CORPUS_DIR.glob("*/*.txt")):
        chars.update(ch for ch in path.read_text(encoding="utf-8") if not ch.isspace())
    return chars


def _vocabulary() -> list[str]:
    chars = _corpus_chars() | set(_EXTRA)
    ascii_chars = [c for c in string.printable if not c.isspace()]
    # BERT's basic tokenizer splits every Han character into its own word, so Han needs
    # no continuation pieces; kana, Latin letters and digits form longer words that
    # WordPiece breaks into a first piece plus "##" continuation pieces.
    han = sorted(c for c in chars if _is_han(c))
    other = sorted(c for c in chars if not _is_han(c) and c not in ascii_chars)
    vocab = list(_SPECIAL) + ascii_chars + other + han
    vocab += ["##" + c for c in ascii_chars + other if c.isalnum()]
    seen: set[str] = set()
    return [t for t in vocab if not (t in seen or seen.add(t))]


def _make_tokenizer(vocab_file: Path):
    from transformers import BertTokenizerFast

    params = inspect.signature(BertTokenizerFast.__init__).parameters
    # transformers 5 renamed the fast tokenizer's ``vocab_file`` argument to ``vocab``.
    key = "vocab" if "vocab" in params and "vocab_file" not in params else "vocab_file"
    return BertTokenizerFast(**{key: str(vocab_file)}, do_lower_case=False, tokenize_chinese_chars=True)


def _st_modules():
    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer
    return Transformer, Pooling


def build_tiny_model(directory: str | os.PathLike[str], seed: int = 0) -> str:
    """Write a tiny sentence-transformers model to ``directory`` and return its path.

    Parameters
    ----------
    directory : str or path-like
        Where to save the model (created if missing).  Name it after a model family (for
        instance ``multilingual-e5-tiny``) to exercise the prefix table.
    seed : int
        Seed of the random initialisation, so two builds give the same weights.

    Returns
    -------
    str
        The path of the saved ``SentenceTransformer`` directory.
    """
    import tempfile

    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel

    out = Path(directory)
    vocab = _vocabulary()
    # The plain transformers checkpoint is only a stepping stone: SentenceTransformer.save()
    # copies weights and tokenizer into ``out``.
    with tempfile.TemporaryDirectory(prefix="tiny-bert-") as tmp:
        hf_dir = Path(tmp)
        vocab_file = hf_dir / "vocab.txt"
        vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        _make_tokenizer(vocab_file).save_pretrained(str(hf_dir))
        config = BertConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=256,
        )
        torch.manual_seed(seed)
        BertModel(config).save_pretrained(str(hf_dir))

        Transformer, Pooling = _st_modules()
        transformer = Transformer(str(hf_dir), max_seq_length=128)
        pooling = Pooling(32, pooling_mode="mean")
        model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
        out.mkdir(parents=True, exist_ok=True)
        model.save(str(out))
    return str(out)


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys
    import tempfile

    print(build_tiny_model(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()))
