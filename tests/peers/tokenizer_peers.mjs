// Loads the independent tokenizer implementations pinned in package.json, each configured the
// way the OpenAI embeddings API tokenizes: special-token strings are ordinary text.
//   tiktoken      OpenAI's Rust core (the same code and regex engine as Python tiktoken), WASM
//   js-tiktoken   pure JavaScript port; its regex runs on V8, whose \s differs from Rust's on
//                 U+0085 and U+FEFF and whose contractions do not fold U+017F (long s)
//   gpt-tokenizer pure JavaScript, also the source of our rank files
import { get_encoding } from "tiktoken";
import { getEncoding } from "js-tiktoken";

export const PEERS = ["tiktoken", "js-tiktoken", "gpt-tokenizer"];

export async function loadPeer(peer, encoding) {
  if (peer === "tiktoken") {
    const enc = get_encoding(encoding);
    return (text) => enc.encode(text, [], []);
  }
  if (peer === "js-tiktoken") {
    const enc = getEncoding(encoding);
    return (text) => enc.encode(text, [], []);
  }
  if (peer === "gpt-tokenizer") {
    const mod = await import(`gpt-tokenizer/encoding/${encoding}`);
    const options = { disallowedSpecial: new Set() };
    return (text) => mod.encode(text, options);
  }
  throw new Error(`unknown peer ${peer}`);
}
