// Prints the token ids of each FILE as one JSON array per line, like `ingestd tokenize --ids`.
// Usage: node tokenizer_reference.mjs PEER ENCODING FILE...
//   PEER: tiktoken | js-tiktoken | gpt-tokenizer; ENCODING: cl100k_base | o200k_base
// Files must be valid UTF-8 (JavaScript strings cannot hold other bytes).
import { readFileSync } from "node:fs";
import { loadPeer } from "./tokenizer_peers.mjs";

const [peer, encoding, ...files] = process.argv.slice(2);
if (!peer || !encoding || files.length === 0) {
  console.error("usage: node tokenizer_reference.mjs PEER ENCODING FILE...");
  process.exit(2);
}
const encode = await loadPeer(peer, encoding);
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const out = [];
for (const file of files) {
  const text = decoder.decode(readFileSync(file));
  out.push("[" + Array.from(encode(text)).join(",") + "]");
}
process.stdout.write(out.join("\n") + "\n");
