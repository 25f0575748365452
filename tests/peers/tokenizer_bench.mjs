// Single-thread encode throughput of the npm tokenizers (tokenizer_peers.mjs) on the given texts,
// for bench/tokenizer.sh. Prints one JSON object per line:
//   {"peer", "encoding", "text", "bytes", "tokens", "mb_per_s_cpu", "mb_per_s_wall"}
// CPU time (process.cpuUsage) is the primary figure because it is robust on a shared machine;
// ingestd's benchmark reports CPU time too.
// Usage: node tokenizer_bench.mjs SECONDS NAME=FILE...
import { readFileSync } from "node:fs";
import { PEERS, loadPeer } from "./tokenizer_peers.mjs";

const [secondsArg, ...specs] = process.argv.slice(2);
const seconds = Number(secondsArg);
if (!(seconds > 0) || specs.length === 0) {
  console.error("usage: node tokenizer_bench.mjs SECONDS NAME=FILE...");
  process.exit(2);
}
const texts = specs.map((spec) => {
  const [name, file] = spec.split("=");
  const buf = readFileSync(file);
  return { name, bytes: buf.length, text: new TextDecoder().decode(buf) };
});

for (const encoding of ["cl100k_base", "o200k_base"]) {
  for (const peer of PEERS) {
    const encode = await loadPeer(peer, encoding);
    for (const { name, bytes, text } of texts) {
      let tokens = 0;
      for (let i = 0; i < 3; ++i) tokens = encode(text).length;  // warm up the JIT and caches
      let iterations = 0;
      const cpu0 = process.cpuUsage();
      const wall0 = process.hrtime.bigint();
      let wall = 0;
      do {
        encode(text);
        ++iterations;
        wall = Number(process.hrtime.bigint() - wall0) / 1e9;
      } while (wall < seconds || iterations < 3);
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      const mb = (bytes * iterations) / 1e6;
      console.log(JSON.stringify({
        peer, encoding, text: name, bytes, tokens,
        mb_per_s_cpu: mb / cpuSeconds, mb_per_s_wall: mb / wall,
      }));
    }
  }
}
