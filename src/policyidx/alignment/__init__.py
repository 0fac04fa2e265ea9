"""Alignment of an original with its translation, and matching of provisions across documents."""

from .aligner import align
from .matching import match
from .records import ALIGNMENT_FORMAT, Alignment, AlignmentError, ClausePair, Match, SentencePair
from .signals import numbers_in, quoted_in

__all__ = ["ALIGNMENT_FORMAT", "AlignmentError", "SentencePair", "ClausePair", "Alignment", "Match", "align", "match",
           "numbers_in", "quoted_in"]
