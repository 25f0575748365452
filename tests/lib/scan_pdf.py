#!/usr/bin/env python3
"""Makes "scanned" PDFs from real ones, for the OCR tests and benchmarks.

A page is rendered to an 8-bit grey image with poppler's pdftoppm (what a scanner would give
back from the printed page), and the images are written into a new PDF as full-page pictures
with no text layer. Pages may also be plain text pages (Helvetica, a real text layer), so one
file can mix born-digital and scanned pages.

  scan_pdf.py OUT.pdf [--dpi N] PAGE...
    PAGE is  scan:SRC.pdf:N   page N (1-based) of SRC.pdf rendered and kept as an image
             text:SENTENCE    a born-digital page carrying SENTENCE as its text layer
  scan_pdf.py --png OUT.png [--dpi N] SRC.pdf:N   the rendered page as a PNG instead
"""
import os
import subprocess
import sys
import tempfile
import zlib


def render_pgm(src, page, dpi):
    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, "p")
        subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page),
                        "-singlefile", src, prefix], check=True)
        data = open(prefix + ".pgm", "rb").read()
    # Binary PGM: "P5\n<w> <h>\n<max>\n<pixels>"
    fields, pos = [], 2
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(int(data[pos:end]))
        pos = end
    w, h, _ = fields
    return w, h, data[pos + 1:pos + 1 + w * h]


def pdf_escape(s):
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(out, pages):
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    kids = []
    for kind, payload in pages:
        page_obj = len(objs) + 1
        kids.append(b"%d 0 R" % page_obj)
        if kind == "scan":
            w, h, pixels, dpi = payload
            wpt, hpt = w * 72.0 / dpi, h * 72.0 / dpi
            content = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q\n" % (wpt, hpt)
            xobj = b" /XObject << /Im0 %d 0 R >>" % (page_obj + 2)
        else:
            wpt, hpt = 612.0, 792.0
            content = b""
            y = 700
            for line in payload:
                content += b"BT /F1 11 Tf 72 %d Td (%s) Tj ET\n" % (y, pdf_escape(line).encode("latin-1"))
                y -= 16
            xobj = b""
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /Font << /F1 3 0 R >>%s >> /Contents %d 0 R >>"
                    % (wpt, hpt, xobj, page_obj + 1))
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        if kind == "scan":
            packed = zlib.compress(pixels, 6)
            objs.append(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
                        % (w, h, len(packed)) + packed + b"\nendstream")
    objs[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    data = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(data))
        data += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        data += b"%010d 00000 n \n" % off
    data += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    with open(out, "wb") as f:
        f.write(data)


def main(argv):
    dpi = 150
    args = list(argv)
    if "--dpi" in args:
        i = args.index("--dpi")
        dpi = int(args[i + 1])
        del args[i:i + 2]
    if args and args[0] == "--png":
        out, spec = args[1], args[2]
        src, page = spec.rsplit(":", 1)
        with tempfile.TemporaryDirectory() as d:
            prefix = os.path.join(d, "p")
            subprocess.run(["pdftoppm", "-gray", "-png", "-r", str(dpi), "-f", page, "-l", page,
                            "-singlefile", src, prefix], check=True)
            os.replace(prefix + ".png", out)
        return
    out, specs = args[0], args[1:]
    pages = []
    for spec in specs:
        kind, rest = spec.split(":", 1)
        if kind == "scan":
            src, page = rest.rsplit(":", 1)
            w, h, pixels = render_pgm(src, int(page), dpi)
            pages.append(("scan", (w, h, pixels, dpi)))
        elif kind == "text":
            pages.append(("text", [rest]))
        else:
            sys.exit("unknown page kind: " + spec)
    write_pdf(out, pages)


if __name__ == "__main__":
    main(sys.argv[1:])
