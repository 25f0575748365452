#!/usr/bin/env python3
"""Checks Markdown links and anchors the way GitHub renders them.

  md_links.py ROOT --targets TARGET...   each TARGET (repo-relative 'path.md#anchor') resolves
  md_links.py ROOT --pages PAGE...       every relative link in each PAGE resolves

A target resolves when the file exists and, if an anchor is given, a heading of the file has
that anchor (GitHub's slug: lower case, punctuation other than '-' and '_' dropped, spaces to
'-', '-1', '-2' ... for repeats). Prints one line per broken link; exits 1 if any.
"""
import os
import re
import sys


def slugs(path):
    seen = {}
    out = set()
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if re.match(r"^ {0,3}(```|~~~)", line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            m = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
            s = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
    return out


def resolve(root, base_dir, target):
    path, _, anchor = target.partition("#")
    full = os.path.normpath(os.path.join(base_dir, path)) if path else None
    if full is None:
        return "no path"
    if not os.path.exists(full):
        return f"{os.path.relpath(full, root)} does not exist"
    if anchor and full.endswith(".md") and anchor not in slugs(full):
        return f"no heading with anchor #{anchor} in {os.path.relpath(full, root)}"
    return None


def main():
    root = os.path.abspath(sys.argv[1])
    mode = sys.argv[2]
    bad = 0
    if mode == "--targets":
        for t in sys.argv[3:]:
            err = resolve(root, root, t)
            if err:
                print(f"broken: {t}: {err}")
                bad += 1
    elif mode == "--pages":
        link = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
        for page in sys.argv[3:]:
            full = os.path.join(root, page)
            in_fence = False
            with open(full, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if re.match(r"^ {0,3}(```|~~~)", line):
                        in_fence = not in_fence
                        continue
                    if in_fence:
                        continue
                    for t in link.findall(re.sub(r"`[^`]*`", "", line)):
                        if re.match(r"^[a-z]+:", t):
                            continue  # http:, https:, mailto:
                        if t.startswith("#"):
                            t = os.path.basename(page) + t
                        err = resolve(root, os.path.dirname(full), t)
                        if err:
                            print(f"broken: {page}:{n}: {t}: {err}")
                            bad += 1
    sys.exit(1 if bad else 0)


main()
