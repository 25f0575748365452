// Compares two outputs of one-JSON-array-per-line token ids (ours, then a peer's) for the same
// list of files. Prints one line per file that differs and a summary line; exits 1 on any
// difference.
// Usage: node compare_ids.mjs LABEL OURS PEERS FILE...
import { readFileSync } from "node:fs";

const [label, oursPath, peerPath, ...files] = process.argv.slice(2);
const lines = (p) => readFileSync(p, "utf8").split("\n").filter((l) => l.length > 0);
const ours = lines(oursPath);
const theirs = lines(peerPath);
if (ours.length !== files.length || theirs.length !== files.length) {
  console.log(`${label}: expected ${files.length} lines, got ${ours.length} (ours) and ` +
    `${theirs.length} (peer)`);
  process.exit(1);
}
let tokens = 0;
let differences = 0;
let badFiles = 0;
for (let i = 0; i < files.length; ++i) {
  const a = JSON.parse(ours[i]);
  const b = JSON.parse(theirs[i]);
  tokens += b.length;
  let first = -1;
  let diff = Math.abs(a.length - b.length);
  for (let k = 0; k < Math.min(a.length, b.length); ++k) {
    if (a[k] !== b[k]) {
      ++diff;
      if (first < 0) first = k;
    }
  }
  if (diff > 0 || a.length !== b.length) {
    ++badFiles;
    differences += diff;
    const at = first < 0 ? Math.min(a.length, b.length) : first;
    console.log(`  DIFF ${files[i]}: ${a.length} vs ${b.length} tokens, first difference at ` +
      `token ${at}: ours ${JSON.stringify(a.slice(at, at + 5))} peer ` +
      `${JSON.stringify(b.slice(at, at + 5))}`);
  }
}
console.log(`${label}: ${files.length} files, ${tokens} tokens compared, ${differences} ` +
  `differences in ${badFiles} files`);
process.exit(differences > 0 || badFiles > 0 ? 1 : 0);
