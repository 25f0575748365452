#!/usr/bin/env bash
# The documentation's shell examples run (scripts/doctest.sh): every ```sh doctest block of
# README.md and docs/**/*.md exits 0 and prints the lines its `# expect:` comments promise, in a
# fresh environment with this build's ingestd on PATH; handbook pages (docs/operations,
# docs/guide, docs/training) mark every sh block as runnable or not. Also checks the runner
# itself on a small page: a failing block, a missing expected line and a leftover process are
# reported as failures.
# Usage: doctest_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

# The runner catches what it must catch.
mkdir -p "$WORK/page/docs"
cat > "$WORK/page/docs/bad.md" <<'MD'
```sh doctest
echo hello
# expect: hello
```

```sh doctest
echo hello
# expect: goodbye
```

```sh doctest
false
```

```sh doctest
sleep 60 &
```

```sh doctest
ingestd --help > /dev/null
exit 3
# expect-exit: 3
```

```sh doctest continue
test -n "$INGESTD_DATA_DIR"
```

```sh not-runnable: needs a real vendor key
curl https://api.openai.com/v1/models
```

```sh doctest keep
sleep 60 &
```
MD
mkdir -p "$WORK/page/scripts"
cp "$SRC/scripts/doctest.sh" "$WORK/page/scripts/"
set +e
"$WORK/page/scripts/doctest.sh" --bin "$BIN" > "$WORK/bad.out" 2>&1
rc=$?
set -e
check "runner: failing page exits 1" test "$rc" -eq 1
check "runner: passing block ok" grep -q '^ok   - docs/bad.md:1 ' "$WORK/bad.out"
check "runner: missing expected line fails" grep -q "^FAIL - docs/bad.md:6 .*expected output line not found: 'goodbye'" "$WORK/bad.out"
check "runner: non-zero exit fails" grep -q '^FAIL - docs/bad.md:11 .*exit status 1, expected 0' "$WORK/bad.out"
check "runner: leftover process fails" grep -q '^FAIL - docs/bad.md:15 .*left a process running' "$WORK/bad.out"
check "runner: expect-exit and continue" grep -q '^ok   - docs/bad.md:25 ' "$WORK/bad.out"
check "runner: a kept process nobody stops fails" grep -q '^FAIL - docs/bad.md:33: a process it kept was still running' "$WORK/bad.out"
check "runner: summary line counts" grep -q '^doctest: 7 blocks run, 1 marked not runnable$' "$WORK/bad.out"
if ! grep -q '^FAIL - docs/bad.md:6' "$WORK/bad.out"; then cat "$WORK/bad.out"; fi

# The handbook's links and anchors resolve.
pages=$(cd "$SRC" && find docs/operations docs/guide docs/training -name '*.md' 2>/dev/null | sort || true)
if python3 "$SRC/tests/lib/md_links.py" "$SRC" --pages $pages > "$WORK/links.out"; then
  pass "links and anchors of $(echo "$pages" | wc -w) handbook pages resolve"
else
  fail "broken links in the handbook"; cat "$WORK/links.out"
fi

# Text found stale once does not come back (the code says pdf_corrupt; budgets and PostgreSQL exist).
for stale in 'corrupt_pdf' 'budgets come later' 'once that backend lands'; do
  check "no stale '$stale' in README.md and docs/" bash -c "! grep -rn -i '$stale' '$SRC/README.md' '$SRC/docs'"
done

# The real documentation.
set +e
"$SRC/scripts/doctest.sh" --bin "$BIN" > "$WORK/docs.out" 2>&1
rc=$?
set -e
cat "$WORK/docs.out"
check "scripts/doctest.sh passes on README.md and docs/" test "$rc" -eq 0
check "summary line printed" grep -qE '^doctest: [0-9]+ blocks run, [0-9]+ marked not runnable$' "$WORK/docs.out"
run=$(sed -nE 's/^doctest: ([0-9]+) blocks run.*/\1/p' "$WORK/docs.out")
check "the handbook has runnable blocks (ran ${run:-0})" test "${run:-0}" -ge 20
finish
