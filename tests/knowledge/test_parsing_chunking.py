import pytest

from workflows.knowledge.chunking import chunk_text
from workflows.knowledge.exceptions import IngestError
from workflows.knowledge.parsing import extract_text


def test_chunks_keep_paragraphs_whole_and_overlap():
    # given three paragraphs that do not fit in one chunk
    alpha, beta, gamma = ("alpha " * 10).strip(), ("beta " * 10).strip(), ("gamma " * 10).strip()
    text = "\n\n".join([alpha, beta, gamma])
    # when
    chunks = chunk_text(text, max_chars=130, overlap_chars=60)
    # then no paragraph is cut, and each chunk starts with the previous one's last paragraph
    assert len(chunks) == 2
    assert chunks[0].split("\n\n") == [alpha, beta]
    assert chunks[1].split("\n\n") == [beta, gamma]
    assert [len(c) <= 130 for c in chunks] == [True, True]


def test_a_paragraph_longer_than_a_chunk_is_split_at_sentences():
    paragraph = " ".join(f"Sentence number {i} is here." for i in range(30))
    chunks = chunk_text(paragraph, max_chars=200, overlap_chars=40)
    assert all(len(c) <= 200 for c in chunks)
    assert chunks[0].startswith("Sentence number 0 is here.")
    assert "Sentence number 29 is here." in chunks[-1]


def test_html_text_drops_scripts_and_keeps_blocks():
    html = b"<html><head><script>evil()</script></head><body><p>One</p><p>Two\nlines</p></body>"
    kind, text = extract_text("page.html", html)
    assert kind == "html"
    assert text == "One\n\nTwo lines"


def test_csv_rows_become_labelled_paragraphs():
    kind, text = extract_text("t.csv", b"sku,price\nAX-1,10\nAX-2,12\n")
    assert kind == "csv"
    assert text == "sku: AX-1; price: 10\n\nsku: AX-2; price: 12"


def test_a_binary_file_named_txt_is_refused():
    with pytest.raises(IngestError, match="binary"):
        extract_text("notes.txt", b"\x00\x01\x02binary")
