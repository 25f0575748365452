#!/usr/bin/env python3
"""Writes a generated corpus for the scale-out tests and benchmarks.

Usage: make_scale_corpus.py OUT_DIR N_TEXT N_THIN_PDF [SEED]

- N_TEXT Markdown/text documents of a few hundred to a few thousand words of seeded prose, each
  with its own title and paragraphs (no two documents share a paragraph);
- N_THIN_PDF one-page PDFs whose text layer holds a single short line (40-90 characters): real
  text, but too little for `auto` routing to trust local extraction, so those go to LlamaParse.

Deterministic for a given seed; nothing is committed.
"""
import os
import random
import sys

WORDS = (
    "ledger lease worker queue vector chunk embedding token budget parser page document "
    "retrieval index search tenant replica heartbeat takeover backoff jitter deadline "
    "throughput latency storage schema migration snapshot cursor statistics planner batch "
    "provider request billing credit reservation settlement journal replay durable "
    "transaction isolation commit rollback checkpoint segment archive manifest cluster "
    "network socket timeout retry circuit breaker window bucket refill quota operator alert "
    "dashboard metric counter gauge histogram sample trace correlation identifier hash "
    "digest normalise paragraph heading table column figure appendix chapter section "
    "summary abstract footnote citation reference glossary keyword phrase sentence"
).split()


def sentence(rnd):
    n = rnd.randint(8, 20)
    words = [rnd.choice(WORDS) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def text_document(rnd, i):
    # The document number appears in every paragraph so no paragraph (and no chunk) repeats
    # across documents.
    paragraphs = []
    for p in range(rnd.randint(3, 24)):
        body = " ".join(sentence(rnd) for _ in range(rnd.randint(2, 7)))
        paragraphs.append(f"Note {i}.{p}: {body}")
    if i % 2 == 0:
        out = [f"# Generated document {i}", ""]
        for p, para in enumerate(paragraphs):
            if p % 5 == 0:
                out += [f"## Part {p // 5 + 1} of document {i}", ""]
            out += [para, ""]
        return ".md", "\n".join(out)
    return ".txt", f"Generated document {i}\n\n" + "\n\n".join(paragraphs) + "\n"


def thin_pdf(text):
    # One Letter page, Helvetica, one line of text: a real text layer poppler extracts.
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = f"BT /F1 12 Tf 72 700 Td ({safe}) Tj ET\n".encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def main():
    out_dir, n_text, n_pdf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    rnd = random.Random(seed)
    os.makedirs(out_dir, exist_ok=True)
    for i in range(n_text):
        ext, body = text_document(rnd, i)
        with open(os.path.join(out_dir, f"gen-{i:04d}{ext}"), "w", encoding="utf-8") as f:
            f.write(body)
    for i in range(n_pdf):
        line = f"Scanned memo {i}: " + " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(4, 8)))
        with open(os.path.join(out_dir, f"thin-{i:03d}.pdf"), "wb") as f:
            f.write(thin_pdf(line[:90]))


if __name__ == "__main__":
    main()
