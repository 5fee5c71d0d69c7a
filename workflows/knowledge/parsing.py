"""File parsers: bytes of a `.txt`, `.md`, `.html`, `.pdf` or `.csv` file → plain text.

Validation happens here, at the boundary: extension, content sniffing (a "txt" that is
really a binary, a "pdf" without the PDF header), size, corrupt PDFs and files with no
text all raise `IngestError` with a message fit to show an admin.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import PurePath

from workflows.knowledge.exceptions import IngestError

SUPPORTED_TYPES = ("txt", "md", "html", "pdf", "csv")
EXTENSION_TYPES = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".csv": "csv",
}


def content_type_for(filename: str) -> str:
    """The file type by extension, or IngestError naming the accepted ones."""
    suffix = PurePath(filename).suffix.lower()
    kind = EXTENSION_TYPES.get(suffix)
    if kind is None:
        accepted = ", ".join(f".{t}" for t in SUPPORTED_TYPES)
        raise IngestError(f"{filename}: unsupported file type {suffix or '(none)'}; use {accepted}")
    return kind


def check_size(filename: str, size: int, *, max_bytes: int) -> None:
    if size == 0:
        raise IngestError(f"{filename}: the file is empty")
    if size > max_bytes:
        raise IngestError(
            f"{filename}: the file is too large ({size:,} bytes; the limit is {max_bytes:,})"
        )


def extract_text(filename: str, content: bytes) -> tuple[str, str]:
    """(content type, text) of a file; paragraphs separated by blank lines."""
    kind = content_type_for(filename)
    if kind == "pdf":
        text = _pdf_text(filename, content)
    else:
        raw = _decode_text(filename, content)
        if kind == "html":
            text = _html_text(raw)
        elif kind == "csv":
            text = _csv_text(filename, raw)
        else:
            text = raw
    text = _tidy(text)
    if not text.strip():
        raise IngestError(f"{filename}: no text could be extracted")
    return kind, text


def _decode_text(filename: str, content: bytes) -> str:
    if content.startswith(b"%PDF-") or b"\x00" in content[:8192]:
        raise IngestError(f"{filename}: the content is binary, not text")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise IngestError(f"{filename}: the text is neither UTF-8 nor Windows-1252") from None


def _pdf_text(filename: str, content: bytes) -> str:
    if not content.lstrip()[:5] == b"%PDF-":
        raise IngestError(f"{filename}: not a PDF file (no %PDF header)")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise IngestError(f"{filename}: the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except IngestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        # pypdf raises a mix of its own and built-in errors on damaged files.
        raise IngestError(f"{filename}: the PDF is corrupt or unreadable ({exc})") from exc
    return "\n\n".join(pages)


class _HTMLText(HTMLParser):
    BLOCKS = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "ul",
            "ol",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "tr",
            "table",
            "section",
            "article",
            "header",
            "footer",
            "blockquote",
            "pre",
            "dd",
            "dt",
        ]
    )
    SKIP = frozenset(["script", "style", "template", "noscript", "head"])

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _html_text(raw: str) -> str:
    parser = _HTMLText()
    parser.feed(raw)
    parser.close()
    # Inside a block, HTML whitespace (newlines included) is one space.
    blocks = "".join(parser.parts).split("\n\n")
    return "\n\n".join(" ".join(block.split()) for block in blocks)


def _csv_text(filename: str, raw: str) -> str:
    """Each row becomes a paragraph `header: value; header: value`."""
    try:
        dialect = csv.Sniffer().sniff(raw[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [row for row in csv.reader(io.StringIO(raw), dialect) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise IngestError(f"{filename}: the CSV is malformed ({exc})") from exc
    if len(rows) < 2:
        raise IngestError(f"{filename}: the CSV has no data rows")
    header = [h.strip() or f"column {i + 1}" for i, h in enumerate(rows[0])]
    lines = []
    for row in rows[1:]:
        pairs = [f"{h}: {v.strip()}" for h, v in zip(header, row, strict=False) if v.strip()]
        lines.append("; ".join(pairs))
    return "\n\n".join(lines)


_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _BLANK_LINES.sub("\n\n", text).strip()
