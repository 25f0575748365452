// Peer chunkers for bench/chunker.sh: the same text, 512-token chunks (cl100k_base), no overlap.
//   node run.mjs TEXT_FILE [ITERATIONS]
// Prints one JSON object per peer: median MB/s (per CPU second) over up to ITERATIONS timed runs
// after one warm-up, the number of runs, the chunk count, and mean/max cl100k tokens per chunk
// (counted after timing, with js-tiktoken).
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import { SentenceSplitter } from "@llamaindex/core/node-parser";
import { getEncoding } from "js-tiktoken";

const [, , path, iterArg] = process.argv;
if (!path) {
  console.error("usage: node run.mjs TEXT_FILE [ITERATIONS]");
  process.exit(2);
}
const text = readFileSync(path, "utf8");
const bytes = Buffer.byteLength(text, "utf8");
const iterations = Number(iterArg ?? 3);
const enc = getEncoding("cl100k_base");
const countTokens = (t) => enc.encode(t).length;

const peers = {
  // LangChain's recommended token-bounded setup: recursive separators, tiktoken length function.
  "langchain RecursiveCharacterTextSplitter": async () =>
    new RecursiveCharacterTextSplitter({
      chunkSize: 512,
      chunkOverlap: 0,
      lengthFunction: countTokens,
    }).splitText(text),
  // LlamaIndex's default node parser. Its tokenizer is cl100k_base through gpt-tokenizer when that
  // package is installed (it is, in package.json: the faster of its two options), else js-tiktoken.
  "llamaindex SentenceSplitter": async () =>
    new SentenceSplitter({ chunkSize: 512, chunkOverlap: 0 }).splitText(text),
};

// CPU seconds of this process (user + system), not wall time: the bench machine may be shared,
// and Google Benchmark's MB/s for ingestd is per CPU second too.
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

for (const [name, run] of Object.entries(peers)) {
  // The first run warms up the JIT and tokenizer tables; it is timed too and kept only when the
  // peer is so slow that further runs would not fit the ~30 s budget per peer.
  let t0 = cpuSeconds();
  let chunks = await run();
  const first = cpuSeconds() - t0;
  const seconds = [];
  let spent = first;
  while (seconds.length < iterations && spent + first < 30) {
    t0 = cpuSeconds();
    chunks = await run();
    const s = cpuSeconds() - t0;
    seconds.push(s);
    spent += s;
  }
  if (seconds.length === 0) seconds.push(first);
  seconds.sort((a, b) => a - b);
  const median = seconds[Math.floor(seconds.length / 2)];
  const counts = chunks.map(countTokens);
  console.log(
    JSON.stringify({
      name,
      mb_per_s: bytes / 1e6 / median,
      seconds: median,
      runs: seconds.length,
      chunks: chunks.length,
      mean_tokens: counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length),
      max_tokens: Math.max(0, ...counts),
    }),
  );
}
