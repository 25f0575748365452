#!/usr/bin/env bash
# Runs the shell examples of the documentation (README.md and docs/**/*.md) so that they cannot
# rot. Conventions (DEVELOPERS.md, "Doc tests"):
#
#   ```sh doctest              runnable: run in a fresh environment
#   ```sh doctest continue     runnable: run in the environment the previous runnable block of
#                              the same page left behind (its files, data dir and variables
#                              exported to the next block with `doctest_export NAME...`)
#   ```sh doctest keep         (with or without continue) processes the block starts may run on
#                              into the next `continue` blocks, which must stop them before the
#                              page's chain of blocks ends (a server used by several blocks)
#   ```sh not-runnable: WHY    shown, not run (a real vendor key, a cluster); counted
#   ```sh                      unmarked: allowed outside docs/operations, docs/guide and
#                              docs/training (counted); an error inside them
#
# Inside a runnable block, `# expect: TEXT` says that TEXT appears in some line of the block's
# output (stdout and stderr together) and `# expect-exit: N` that the block exits with N (default
# 0). A fresh environment is an empty temporary working directory, INGESTD_DATA_DIR inside it
# (the embedded SQLite store), HOME inside it, no INGESTD_*/OPENAI_*/LLAMA_CLOUD_* variables from
# the caller, and `ingestd` on PATH (the binary under test). Blocks run with `set -eo pipefail`
# in their own process group with a time limit; a block that leaves a process running (a server
# it started and did not stop) fails, and the process is killed.
#
# Usage: scripts/doctest.sh [--bin INGESTD] [--list] [-v] [FILE.md...]
#   --bin   the ingestd binary (default: $INGESTD_BIN, else build/ci/cmd/ingestd/ingestd)
#   --list  print every sh block with its marking and exit
#   -v      print the output of passing blocks too
# Last line: `doctest: N blocks run, M marked not runnable`. Exit 0 when every runnable block
# passed and no strict page has an unmarked block.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec python3 - "$root" "$@" <<'PY'
import os, re, shutil, signal, subprocess, sys, tempfile, time

root = sys.argv[1]
args = sys.argv[2:]
binary = os.environ.get("INGESTD_BIN", os.path.join(root, "build/ci/cmd/ingestd/ingestd"))
list_only = verbose = False
files = []
i = 0
while i < len(args):
    a = args[i]
    if a == "--bin":
        i += 1
        binary = args[i]
    elif a == "--list":
        list_only = True
    elif a == "-v":
        verbose = True
    elif a in ("-h", "--help"):
        print("usage: scripts/doctest.sh [--bin INGESTD] [--list] [-v] [FILE.md...]")
        sys.exit(0)
    else:
        files.append(os.path.relpath(os.path.abspath(a), root))
    i += 1

# Pages whose every sh block must say whether it runs.
STRICT = ("docs/operations/", "docs/guide/", "docs/training/")
SHELLS = ("sh", "bash", "shell", "console")
DEFAULT_TIMEOUT = 120

if not files:
    files = ["README.md"] if os.path.exists(os.path.join(root, "README.md")) else []
    for d, _, names in os.walk(os.path.join(root, "docs")):
        for n in names:
            if n.endswith(".md"):
                files.append(os.path.relpath(os.path.join(d, n), root))
    files = [files[0]] + sorted(files[1:]) if files and files[0] == "README.md" else sorted(files)

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")


class Block:
    def __init__(self, path, line, info, text):
        self.path, self.line, self.text = path, line, text
        words = info.split()
        self.lang = words[0] if words else ""
        rest = info[len(self.lang):].strip()
        self.runnable = "doctest" in words[1:]
        self.cont = self.runnable and "continue" in words[1:]
        self.keep = self.runnable and "keep" in words[1:]
        self.timeout = DEFAULT_TIMEOUT
        for w in words[1:]:
            if w.startswith("timeout="):
                self.timeout = int(w.split("=", 1)[1])
        self.not_runnable = rest.startswith("not-runnable")
        self.reason = rest.split(":", 1)[1].strip() if ":" in rest else ""

    @property
    def where(self):
        return f"{self.path}:{self.line}"


def blocks_of(path):
    out = []
    with open(os.path.join(root, path), encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m.group(2), m.group(3).strip(), i + 1
        body = []
        i += 1
        while i < len(lines):
            m2 = FENCE.match(lines[i])
            if m2 and m2.group(2).startswith(fence[0] * len(fence)) and not m2.group(3).strip():
                break
            body.append(lines[i])
            i += 1
        i += 1
        b = Block(path, start, info, "\n".join(body) + "\n")
        if b.lang in SHELLS:
            out.append(b)
    return out


all_blocks = [b for p in files for b in blocks_of(p)]
strict_unmarked = [b for b in all_blocks
                   if b.path.startswith(STRICT) and not b.runnable and not b.not_runnable]
bad_skip = [b for b in all_blocks if b.not_runnable and not b.reason]

if list_only:
    for b in all_blocks:
        kind = ("run" + (" (continue)" if b.cont else "") if b.runnable else
                f"not runnable: {b.reason}" if b.not_runnable else "unmarked")
        print(f"{b.where}: {kind}")
    sys.exit(0)

if not os.access(binary, os.X_OK):
    print(f"doctest: no ingestd binary at {binary} (build it: scripts/build.sh ci ingestd, "
          "or pass --bin)")
    sys.exit(2)
binary = os.path.abspath(binary)

base = tempfile.mkdtemp(prefix="ingestd-doctest.")
bindir = os.path.join(base, "bin")
os.makedirs(bindir)
os.symlink(binary, os.path.join(bindir, "ingestd"))

STRIP = ("INGESTD_", "OPENAI_", "LLAMA_CLOUD_")


def fresh_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP)}
    env["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")
    env["HOME"] = os.path.join(home, "home")
    env["INGESTD_DATA_DIR"] = os.path.join(home, "work", ".ingestd")
    env["DOCTEST_SOURCE_DIR"] = root
    env["DOCTEST_EXPORTS"] = os.path.join(home, "exports.sh")
    os.makedirs(env["HOME"], exist_ok=True)
    os.makedirs(os.path.join(home, "work"), exist_ok=True)
    return env


# Prologue of every block: strict mode, and doctest_export, which hands variables to the next
# `doctest continue` block of the page (a reader who runs the page in one shell has them anyway).
PROLOGUE = """set -eo pipefail
doctest_export() { local n; for n in "$@"; do printf 'export %s=%q\\n' "$n" "${!n}" >> "$DOCTEST_EXPORTS"; done; }
[ -f "$DOCTEST_EXPORTS" ] && . "$DOCTEST_EXPORTS"
"""


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop_group(pgid):
    """Waits up to 3 s for the group to end by itself; kills it otherwise. True if it ended."""
    deadline = time.monotonic() + 3
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not group_alive(pgid):
        return True
    try:
        os.killpg(pgid, signal.SIGTERM)
        time.sleep(1)
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return False


kept = []  # (process group, block) of `keep` blocks in the current chain


def end_chain():
    """Processes a `keep` block left must have been stopped by a later block of the chain."""
    bad = [b for pgid, b in kept if not stop_group(pgid)]
    kept.clear()
    return bad


def run(block, home):
    env = fresh_env(home)
    script = PROLOGUE + block.text
    out_path = os.path.join(home, "output.txt")
    started = time.monotonic()
    with open(out_path, "wb") as out:
        p = subprocess.Popen(["bash", "-c", script, "doctest"], cwd=os.path.join(home, "work"),
                             env=env, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = False
        try:
            rc = p.wait(timeout=block.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            rc = p.wait()
    elapsed = time.monotonic() - started
    # Anything still in the block's process group was started by it and not stopped.
    leftover = False
    if block.keep and not timed_out:
        kept.append((p.pid, block))
    elif not stop_group(p.pid):
        leftover = True
    with open(out_path, encoding="utf-8", errors="replace") as f:
        output = f.read()
    problems = []
    if timed_out:
        problems.append(f"timed out after {block.timeout} s")
    want_rc = 0
    expects = []
    for line in block.text.split("\n"):
        m = re.match(r"^\s*# expect-exit: *(\d+)\s*$", line)
        if m:
            want_rc = int(m.group(1))
            continue
        m = re.match(r"^\s*# expect: ?(.*?)\s*$", line)
        if m:
            expects.append(m.group(1))
    if not timed_out and rc != want_rc:
        problems.append(f"exit status {rc}, expected {want_rc}")
    out_lines = output.split("\n")
    for e in expects:
        if not any(e in l for l in out_lines):
            problems.append(f"expected output line not found: {e!r}")
    if leftover:
        problems.append("left a process running (stop what the block starts)")
    return problems, output, elapsed


failures = 0
ran = 0
prev_home = None
prev_ok = False
prev_path = None
for b in all_blocks:
    if not b.runnable:
        continue
    if not b.cont:
        for kb in end_chain():
            failures += 1
            print(f"FAIL - {kb.where}: a process it kept was still running when the page's "
                  "blocks ended (stop it in a later 'continue' block)")
    if b.cont and (prev_home is None or prev_path != b.path):
        print(f"FAIL - {b.where}: 'doctest continue' without an earlier runnable block on the page")
        failures += 1
        continue
    if b.cont and not prev_ok:
        print(f"FAIL - {b.where}: not run, the block it continues failed")
        failures += 1
        ran += 1
        continue
    home = prev_home if b.cont else tempfile.mkdtemp(prefix="b.", dir=base)
    problems, output, elapsed = run(b, home)
    ran += 1
    prev_home, prev_path, prev_ok = home, b.path, not problems
    if problems:
        failures += 1
        print(f"FAIL - {b.where} ({elapsed:.1f} s): " + "; ".join(problems))
        print("       --- block ---")
        for l in b.text.rstrip("\n").split("\n"):
            print("       | " + l)
        print("       --- output (last 40 lines) ---")
        for l in output.rstrip("\n").split("\n")[-40:]:
            print("       > " + l)
    else:
        print(f"ok   - {b.where} ({elapsed:.1f} s)")
        if verbose:
            for l in output.rstrip("\n").split("\n"):
                print("       > " + l)

for kb in end_chain():
    failures += 1
    print(f"FAIL - {kb.where}: a process it kept was still running when the page's blocks "
          "ended (stop it in a later 'continue' block)")

for b in strict_unmarked:
    failures += 1
    print(f"FAIL - {b.where}: sh block on a handbook page is neither 'doctest' nor "
          "'not-runnable: WHY'")
for b in bad_skip:
    failures += 1
    print(f"FAIL - {b.where}: 'not-runnable' needs a reason ('not-runnable: WHY')")

shutil.rmtree(base, ignore_errors=True)
skipped = sum(1 for b in all_blocks if b.not_runnable)
unmarked = sum(1 for b in all_blocks if not b.runnable and not b.not_runnable)
print(f"doctest: {len(files)} pages, {len(all_blocks)} sh blocks, {unmarked} unmarked "
      "(outside the handbook), " + (f"{failures} FAILED" if failures else "all runnable passed"))
print(f"doctest: {ran} blocks run, {skipped} marked not runnable")
sys.exit(1 if failures else 0)
PY
