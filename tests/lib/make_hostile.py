#!/usr/bin/env python3
"""Writes hostile and malformed inputs for the containment tests (issue #20).

Usage: make_hostile.py OUT_DIR [--hooks]

Everything is generated at test time; nothing binary is committed. Each file is named for what
it attacks. With --hooks it also writes files that trigger the parse subprocess's test hooks
(ingestd only honours them when INGESTD_TEST_HOOKS=1): a parse that hangs ignoring SIGTERM, one
that crashes, one that overflows its stack.
"""
import io
import os
import random
import sys
import zipfile
import zlib

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                 'officedocument.wordprocessingml.document.main+xml"/></Types>')


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def docx(path, chunks):
    """A DOCX whose document.xml is the concatenation of `chunks` (streamed, never held)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            for c in chunks:
                f.write(c)


def nested_html(tag, depth, text=b"deep text"):
    return (b"<!doctype html><html><body>" + (b"<%s>" % tag) * depth + text +
            (b"</%s>" % tag) * depth + b"</body></html>")


def pdf(objs):
    """A PDF with a correct xref table from object bodies (object i+1 = objs[i])."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def pdf_page(content, filter_name=None):
    stream_dict = b"<< /Length %d%s >>" % (len(content), b" /Filter /%s" % filter_name if filter_name else b"")
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        stream_dict + b"\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def deflate_repeated(unit, total):
    """zlib stream of `unit` repeated to `total` bytes, built without holding the whole."""
    c = zlib.compressobj(9)
    block = unit * max(1, (1 << 20) // len(unit))
    parts, done = [], 0
    while done < total:
        parts.append(c.compress(block))
        done += len(block)
    parts.append(c.flush())
    return b"".join(parts)


def main(out_dir, hooks):
    os.makedirs(out_dir, exist_ok=True)
    p = lambda name: os.path.join(out_dir, name)
    rnd = random.Random(20)

    # HTML: ~550 KB of nested tags (the segfault of issue #20), block and inline and tables.
    write(p("nested-div.html"), nested_html(b"div", 110000))
    write(p("nested-span.html"), nested_html(b"span", 110000))
    write(p("nested-table.html"), b"<html><body>" + b"<table><tr><td>" * 40000 + b"cell" + b"</body></html>")
    write(p("nested-list.html"), nested_html(b"ul", 60000, b"<li>item</li>"))
    write(p("unclosed-formatting.html"), b"<html><body>" + b"<b><i><u><a href=x>" * 30000 + b"text")
    write(p("many-attributes.html"), b"<p " + b" ".join(b"a%d=x" % i for i in range(200000)) + b">x</p>")

    # Markdown: 5 MB on one line (words), one 5 MB token, and deep block nesting.
    words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"zeta"]
    line = b" ".join(rnd.choice(words) for _ in range(5 * 1024 * 1024 // 6))
    write(p("one-line.md"), b"# Title\n\n" + line[: 5 * 1024 * 1024] + b"\n")
    write(p("one-token.md"), b"x" * (5 * 1024 * 1024))
    write(p("deep-quote.md"), b">" * 200000 + b" quoted\n")
    write(p("deep-list.md"), b"".join(b"  " * i + b"- item\n" for i in range(0, 1000)))
    write(p("many-pipes.md"), (b"|" * 100000 + b"\n") * 20)
    write(p("backticks.md"), b"`" * 1000000)

    # DOCX: a zip bomb (~1 GiB of spaces in ~1 MB), nested XML a million levels deep.
    docx(p("bomb-1g.docx"), [
        b'<?xml version="1.0"?><w:document ' + W_NS.encode() + b"><w:body><w:p><w:r><w:t>",
        *([b" " * (1 << 20)] * 1024),
        b"</w:t></w:r></w:p></w:body></w:document>"])
    depth = 300000
    docx(p("deep-runs.docx"), [
        b'<?xml version="1.0"?><w:document ' + W_NS.encode() + b"><w:body><w:p>",
        b"<w:hyperlink>" * depth, b"<w:r><w:t>deep</w:t></w:r>", b"</w:hyperlink>" * depth,
        b"</w:p></w:body></w:document>"])
    docx(p("deep-body.docx"), [
        b'<?xml version="1.0"?><w:document ' + W_NS.encode() + b"><w:body>",
        b"<w:customXml>" * depth, b"<w:p><w:r><w:t>deep</w:t></w:r></w:p>", b"</w:customXml>" * depth,
        b"</w:body></w:document>"])
    with zipfile.ZipFile(p("no-document.docx"), "w") as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("../../etc/passwd", "traversal")
    write(p("truncated.docx"), open(p("deep-body.docx"), "rb").read()[:300])

    # PDF: a content stream that inflates to 512 MiB of text operators; a stream with a
    # lying /Length; a page tree that refers to itself; random bytes after a PDF header.
    write(p("bomb-stream.pdf"), pdf_page(deflate_repeated(b"BT /F1 9 Tf 10 10 Td (AAAAAAAA) Tj ET\n", 512 << 20), b"FlateDecode"))
    write(p("lying-length.pdf"), pdf_page(b"BT /F1 12 Tf 72 700 Td (short) Tj ET").replace(b"/Length 36", b"/Length 99999999"))
    write(p("self-parent.pdf"), pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]))
    write(p("garbage.pdf"), b"%PDF-1.7\n" + bytes(rnd.getrandbits(8) for _ in range(20000)))

    if hooks:
        write(p("hook-hang.txt"), b"INGESTD-TEST-HOOK:hang\n")
        write(p("hook-crash.txt"), b"INGESTD-TEST-HOOK:crash\n")
        write(p("hook-stack.txt"), b"INGESTD-TEST-HOOK:stack\n")


if __name__ == "__main__":
    main(sys.argv[1], "--hooks" in sys.argv[2:])
