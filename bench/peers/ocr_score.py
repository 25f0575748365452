#!/usr/bin/env python3
"""Scores OCR output against PDF text layers for bench/ocr.sh; prints two Markdown table rows.

ocr_score.py OCR_BENCH TRUTH_DIR INGESTD_DIR CLI_DIR INGESTD_JSON CLI_JSON INGESTD_RSS_KB SET DPI

CER and WER are computed by `ocr_bench --score` (Levenshtein over non-whitespace code points
and over whitespace-separated words, summed over pages: a micro-average).
CJK text has no spaces between words, so its WER is over the same units as CER and not shown.
"""
import json
import subprocess
import sys


def score(bench, truth_dir, out_dir):
    j = json.loads(subprocess.run([bench, "--score", truth_dir, out_dir, ".png.txt"], check=True,
                                  capture_output=True, text=True).stdout)
    return j["cer"], j["wer"]


def main():
    bench, truth, ing_dir, cli_dir, ing_json, cli_json, ing_rss_kb, set_name, dpi = sys.argv[1:10]
    ing = json.load(open(ing_json))
    cli = json.load(open(cli_json))
    ing_cer, ing_wer = score(bench, truth, ing_dir)
    cli_cer, cli_wer = score(bench, truth, cli_dir)
    cjk = set_name == "cjk"
    for path, cer, wer, j, rss in (("ingestd (in-process)", ing_cer, ing_wer, ing, int(ing_rss_kb) / 1024),
                                   ("tesseract CLI", cli_cer, cli_wer, cli, cli["peak_rss_mb"])):
        pages = j["pages"]
        cpu = j["cpu_s"]
        print("| %d %s | %s | %s | %.2f%% | %s | %.2f | %.3f | %.0f |" % (
            pages, "CJK" if cjk else "English", dpi, path, cer * 100,
            "n/a" if cjk else "%.2f%%" % (wer * 100), cpu / max(pages, 1),
            pages / cpu if cpu else 0, rss))


if __name__ == "__main__":
    main()
