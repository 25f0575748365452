#!/usr/bin/env python3
"""Writes the malformed and edge-case inputs the end-to-end tests ingest.

Everything is generated, nothing is committed: a PDF page with only an image (no text layer),
a compressed-bomb DOCX, random bytes named .pdf, text that is not UTF-8, text with NUL bytes,
a zero-byte file, and CJK/Cyrillic Markdown.
"""
import os
import random
import sys
import zipfile


def image_only_pdf(path):
    # One page that paints a 2x2 grey inline image and has no text operators at all.
    content = b"q 100 0 0 100 50 50 cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x00\xff\xff\x00 EI Q\n"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
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
    with open(path, "wb") as f:
        f.write(out)


def bomb_docx(path, inflated_bytes):
    # A well-formed DOCX whose document.xml inflates to `inflated_bytes` (mostly spaces).
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>')
            block = b" " * (1 << 20)
            for _ in range(inflated_bytes >> 20):
                f.write(block)
            f.write(b"</w:t></w:r></w:p></w:body></w:document>")


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rnd = random.Random(42)
    image_only_pdf(os.path.join(out_dir, "scanned-image-only.pdf"))
    bomb_docx(os.path.join(out_dir, "bomb.docx"), 64 << 20)
    with open(os.path.join(out_dir, "random-bytes.pdf"), "wb") as f:
        f.write(bytes(rnd.getrandbits(8) for _ in range(8192)))
    with open(os.path.join(out_dir, "empty.txt"), "wb"):
        pass
    # Latin-1 and random high bytes: not UTF-8, and not text in any useful sense.
    with open(os.path.join(out_dir, "not-utf8.txt"), "wb") as f:
        f.write(bytes(rnd.choice(range(0x80, 0x100)) for _ in range(4000)))
    # Mostly valid UTF-8 with a few stray bytes: kept, with the bad bytes replaced.
    with open(os.path.join(out_dir, "mostly-utf8.txt"), "wb") as f:
        f.write("Stray bytes should not cost the whole document. ".encode() * 20 +
                b"\xff\xfe caf\xe9 " + "The rest of the text is fine and searchable.".encode())
    with open(os.path.join(out_dir, "nul-bytes.txt"), "wb") as f:
        f.write(b"\x00".join([b"text with embedded NUL bytes"] * 200))
    with open(os.path.join(out_dir, "multilingual.md"), "w", encoding="utf-8") as f:
        f.write("# 多言語のテスト\n\n東京の図書館で古い地図を探しています。\n\n"
                "## Кириллица\n\nБыстрая коричневая лиса перепрыгивает через ленивую собаку.\n\n"
                "## 中文\n\n这是一个关于文档检索的简短段落。\n")


if __name__ == "__main__":
    main(sys.argv[1])
