#!/usr/bin/env bash
# Doc test of docs/providers.md "Recipe: a self-hosted server": the TOML block of the recipe,
# with `ingestd emulate openai` standing in for the self-hosted server. Only the values the
# emulator cannot take as they are change (its URL; a model name it serves, at 256 dimensions,
# with that name's price 0); the keys, and the command lines, are the documented ones.
# Usage: providers_recipe_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
trap 'emulators_stop; rm -rf "$WORK"' EXIT
unset OPENAI_API_KEY OPENAI_BASE_URL INGESTD_DATA_DIR || true

python3 - "$SRC/docs/providers.md" "$WORK/recipe.toml" <<'PY' && pass "the recipe's TOML block is in docs/providers.md" || { fail "recipe block"; finish; }
import re, sys
doc = open(sys.argv[1]).read()
section = doc.split("### Recipe: a self-hosted server", 1)[1]
block = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
for key in ('provider = "openai"', "model =", "dimensions =", "base_url =", "embedding_per_1m_usd ="):
    assert key in block, key
open(sys.argv[2], "w").write(block)
PY

emulator_start openai "$WORK/emu.out"   # no --api-key: like Ollama, it ignores auth
sed -e "s|^model = .*|model = \"text-embedding-3-small\"|" \
    -e "s|^dimensions = .*|dimensions = 256|" \
    -e "s|^base_url = .*|base_url = \"$EMU_URL/v1\"|" \
    -e "s|^embedding_per_1m_usd = .*|embedding_per_1m_usd = \"text-embedding-3-small=0\"|" \
    "$WORK/recipe.toml" > "$WORK/ingestd.toml"
printf '[store]\ndata_dir = "%s"\n' "$WORK/data" >> "$WORK/ingestd.toml"
check "the adapted recipe is a valid configuration" "$BIN" --config "$WORK/ingestd.toml" config check

docs="$WORK/docs"
mkdir -p "$docs"
cp -r "$SRC/examples/." "$docs/"
ndocs=$(find "$docs" -type f | wc -l)
set +e
OPENAI_API_KEY=unused "$BIN" --config "$WORK/ingestd.toml" ingest "$docs" --json > "$WORK/run.json" 2> "$WORK/run.log"
rc=$?
set -e
check "ingest with the recipe exits 0 (rc=$rc)" test "$rc" -eq 0
python3 - "$WORK/run.json" "$ndocs" <<'PY' && pass "every document completes, at cost 0, in the 256-dimension space" || fail "recipe run: $(cat "$WORK/run.json") $(tail -5 "$WORK/run.log")"
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert s["documents"] == n and s["completed"] == n and s["failed"] == 0, s
assert s["cost_usd"] == 0, s
assert s["embedder"] == "openai text-embedding-3-small (256 dims)", s["embedder"]
PY
OPENAI_API_KEY=unused "$BIN" --config "$WORK/ingestd.toml" search "how do budgets work" -k 2 \
  > "$WORK/search.txt" 2> "$WORK/search.log" \
  && grep -q "in text-embedding-3-small (openai text-embedding-3-small (256 dims))" "$WORK/search.txt" \
  && pass "search answers from the recipe's space" || fail "search: $(cat "$WORK/search.log")"
# A self-hosted model without the price line is refused before anything is sent.
grep -v "embedding_per_1m_usd" "$WORK/ingestd.toml" \
  | sed -e 's|^model = .*|model = "nomic-embed-text"|' -e 's|^dimensions = .*|dimensions = 768|' \
  > "$WORK/noprice.toml"
set +e
OPENAI_API_KEY=unused "$BIN" --config "$WORK/noprice.toml" ingest "$docs" > /dev/null 2> "$WORK/noprice.log"
rc=$?
set -e
check "a model without a price is refused (rc=$rc)" test "$rc" -ne 0
check "the refusal names the pricing setting" grep -q "pricing\|price" "$WORK/noprice.log"
finish
