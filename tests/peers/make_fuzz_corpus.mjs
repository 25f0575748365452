// Writes seeded random texts that stress the pre-tokenization rules: every Unicode class the
// regexes distinguish (Lu, Ll, Lt, Lm, Lo, M, N, \s incl. \r \n, punctuation, '/'), contraction
// fragments in all cases, and runs of each. Deterministic for a given seed.
// Usage: node make_fuzz_corpus.mjs OUT_DIR [FILES] [CHARS_PER_FILE]
// Writes OUT_DIR/fuzz_NN.txt (all peers agree on these) and OUT_DIR/rust_fuzz_NN.txt, which also
// use the characters where Rust's regex and V8's differ (compare those with tiktoken only).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [outDir, filesArg = "12", charsArg = "6000"] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node make_fuzz_corpus.mjs OUT_DIR [FILES] [CHARS_PER_FILE]");
  process.exit(2);
}

// mulberry32: tiny, seeded, good enough for test data.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const groups = {
  upper: "ABCXYZÀÉÖÞĀŁΑΩДЯԱႠ",
  lower: "abcxyzßàéöþāłαωдяաა",
  title: "ǅǈǋǲᾈᾼ",
  modifier: "ʰʲˈˌʼˆᵃᵢ々ー",
  other: "日本中文한국ไทยאבعربیदेव",
  mark: "\u0301\u0300\u0308\u0327\u0903\u093f\u0e31\u20dd\u0489\u064e\u05b7",
  digit: "0123456789٠١٢३४๑",
  number: "½²³ⅠⅫⅰ①⑳",
  space: " \t\u00a0\u2003\u3000\u2028\u000b\u000c",
  newline: "\r\n",
  punct: ".,;:!?-_()[]{}<>\"#$%&*+=@^`|~§©€…—–“”‘’",
  slash: "/\\",
  apostrophe: "'",
  emoji: ["😀", "👍🏽", "👨‍👩‍👧", "🇯🇵", "❤️", "1️⃣"],
  contraction: ["'s", "'S", "'t", "'T", "'re", "'RE", "'rE", "'ve", "'Ve", "'m", "'M", "'ll", "'LL",
    "'lL", "'d", "'D", "'x", "''", "'l", "'r", "'v"],
  word: ["the", "The", "THE", " hello", " World", "HTTPServer", "camelCase", "o'clock", "it's",
    "IT'S", "x86", "1234567", "  ", "   ", "\n\n", "\r\n", " \n ", "\t\t", "<|endoftext|>"],
};
const rustOnly = { rust: ["\u0085", "\ufeff", "'ſ", "ſ", " \u0085", "\u0085\n"] };

function pick(r, list) {
  const items = typeof list === "string" ? Array.from(list) : list;
  return items[Math.floor(r() * items.length)];
}

function makeText(r, chars, withRust) {
  const names = Object.keys(groups).concat(withRust ? Object.keys(rustOnly) : []);
  const all = { ...groups, ...(withRust ? rustOnly : {}) };
  let out = "";
  while (out.length < chars) {
    const g = all[pick(r, names)];
    // Runs make repeated classes (long words, long whitespace) common, as in real text.
    const run = r() < 0.3 ? 1 + Math.floor(r() * 12) : 1;
    for (let i = 0; i < run; ++i) out += pick(r, g);
  }
  return out;
}

mkdirSync(outDir, { recursive: true });
const files = Number(filesArg);
const chars = Number(charsArg);
for (let i = 0; i < files; ++i) {
  const name = String(i).padStart(2, "0");
  writeFileSync(join(outDir, `fuzz_${name}.txt`), makeText(rng(1000 + i), chars, false));
  writeFileSync(join(outDir, `rust_fuzz_${name}.txt`), makeText(rng(2000 + i), chars, true));
}
