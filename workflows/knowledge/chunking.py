"""Split text into overlapping chunks that keep paragraphs whole where they fit.

Paragraphs (blank-line separated) are packed into chunks of at most `max_chars`; the next
chunk starts with the trailing paragraph(s) of the previous one, up to `overlap_chars`,
so a passage cut at a boundary is still found whole in one of the two. A paragraph
longer than `max_chars` is split at sentence ends (then at spaces).
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def chunk_text(text: str, *, max_chars: int = 1000, overlap_chars: int = 200) -> list[str]:
    if max_chars <= 0 or overlap_chars < 0 or overlap_chars >= max_chars:
        raise ValueError("need 0 <= overlap_chars < max_chars")
    pieces: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if paragraph:
            pieces.extend(_split_long(paragraph, max_chars))

    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        extra = len(piece) + (2 if current else 0)
        if current and size + extra > max_chars:
            chunks.append("\n\n".join(current))
            current = _overlap_tail(current, overlap_chars, room=max_chars - len(piece) - 2)
            size = len("\n\n".join(current))
            extra = len(piece) + (2 if current else 0)
        current.append(piece)
        size += extra
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def _overlap_tail(paragraphs: list[str], overlap_chars: int, *, room: int) -> list[str]:
    """The last whole paragraphs of a chunk that fit in the overlap (and beside the next)."""
    tail: list[str] = []
    size = 0
    for paragraph in reversed(paragraphs):
        grown = size + len(paragraph) + (2 if tail else 0)
        if grown > min(overlap_chars, room):
            break
        tail.insert(0, paragraph)
        size = grown
    if not tail and overlap_chars and room > 0:
        # The last paragraph is longer than the overlap: carry its final sentences.
        last = paragraphs[-1]
        cut = last[-min(overlap_chars, room) :]
        boundary = _SENTENCE_END.search(cut)
        tail = [cut[boundary.end() :] if boundary else cut.split(" ", 1)[-1]]
        tail = [t for t in tail if t.strip()]
    return tail


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    if len(paragraph) <= max_chars:
        return [paragraph]
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        for word_run in _split_words(sentence, max_chars):
            candidate = f"{current} {word_run}".strip()
            if len(candidate) <= max_chars:
                current = candidate
            else:
                if current:
                    parts.append(current)
                current = word_run
    if current:
        parts.append(current)
    return parts


def _split_words(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    runs: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > max_chars:  # a "word" longer than a chunk (base64, URLs…)
            if current:
                runs.append(current)
                current = ""
            runs.append(word[:max_chars])
            word = word[max_chars:]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= max_chars:
            current = candidate
        else:
            runs.append(current)
            current = word
    if current:
        runs.append(current)
    return runs
