// Checks the real responses of a running `ingestd serve` against docs/openapi.json: every
// documented route is called, and each answer's status must be documented for that route, its
// content type must be one the document lists, and a JSON body must validate against the
// documented schema (schema.mjs). At the end every documented (route, method, status) must
// have been seen, except the few listed in NOT_EXERCISED with the reason.
// Usage: node check_responses.mjs BASE_URL OPENAPI_JSON   (env: INGESTD_ADMIN_TOKEN,
//        ALPHA_TOKEN, BETA_TOKEN, MAX_BYTES, PDF_BAD; API keys READ_KEY (scope read),
//        INGEST_KEY (scope ingest), LIMITED_KEY (scope admin, --rate-limit 1/m))
import { readFileSync } from "node:fs";
import { validate } from "./schema.mjs";

const [base, docPath] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(docPath, "utf8"));
const admin = process.env.INGESTD_ADMIN_TOKEN;
const alpha = process.env.ALPHA_TOKEN;
const beta = process.env.BETA_TOKEN;

// Documented answers a single healthy process cannot be made to give from outside.
const NOT_EXERCISED = {
  "GET /readyz 503": "needs a broken store or a process without workers (ApiServerTest.Readyz* cover it)",
  "POST /v1/jobs/{id}/requeue 409":
    "only a job running under a live lease refuses a requeue; not reproducible on demand from outside",
};

let failures = 0;
const seen = new Set();
function report(ok, what, detail) {
  console.log((ok ? "ok   - " : "FAIL - ") + what + (ok || !detail ? "" : `\n       ${detail}`));
  if (!ok) failures++;
}

// Calls `method url` and checks the answer against the document's route `template`.
async function call(template, method, url, { token, headers = {}, body, expect } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = "Bearer " + token;
  const r = await fetch(base + url, { method: method.toUpperCase(), headers: h, body });
  const text = await r.text();
  const key = `${method.toUpperCase()} ${template} ${r.status}`;
  const what = `${method.toUpperCase()} ${url} -> ${r.status}`;
  if (expect !== undefined && r.status !== expect) {
    report(false, what, `expected ${expect}: ${text.slice(0, 300)}`);
    return { status: r.status, json: null };
  }
  const op = doc.paths?.[template]?.[method];
  if (!op) { report(false, what, `route ${method} ${template} is not in the document`); return {}; }
  const resp = op.responses?.[String(r.status)];
  if (!resp) { report(false, what, `status ${r.status} is not documented for ${template}`); return {}; }
  seen.add(key);
  if (r.status === 204) {
    report(text.length === 0 && !resp.content, what + " (no content)");
    return { status: r.status };
  }
  const ctype = (r.headers.get("content-type") || "").split(";")[0].trim();
  const content = resp.content || {};
  if (!(ctype in content)) {
    report(false, what, `content type ${ctype} not among ${Object.keys(content).join(", ") || "(none)"}`);
    return { status: r.status };
  }
  let json = null;
  if (ctype === "application/json") {
    try { json = JSON.parse(text); } catch (e) { report(false, what, "body is not JSON"); return {}; }
    const errs = content[ctype].schema ? validate(doc, content[ctype].schema, json) : [];
    report(errs.length === 0, what + " matches its schema", errs.slice(0, 8).join("\n       "));
  } else {
    report(text.length > 0, what + ` (${ctype}, ${text.length} bytes)`);
  }
  return { status: r.status, json };
}

async function waitJob(id, token, states) {
  for (let i = 0; i < 300; i++) {
    const r = await fetch(`${base}/v1/jobs/${id}`, { headers: { Authorization: "Bearer " + token } });
    const j = await r.json();
    if (states.includes(j.state)) return j;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`job ${id} never reached ${states}`);
}

const md = "# Field guide\n\n## Apples\nApples grow in orchards and ripen in autumn.\n";
const json = { "Content-Type": "application/json" };

await call("/healthz", "get", "/healthz", { expect: 200 });
await call("/readyz", "get", "/readyz", { expect: 200 });
await call("/openapi.json", "get", "/openapi.json", { expect: 200 });
await call("/", "get", "/", { expect: 200 });

// Uploads: raw (201), the same bytes again as multipart (200), problems (400, 401, 413).
const up = (await call("/v1/documents", "post", "/v1/documents",
  { token: alpha, headers: { "X-Filename": "guide.md" }, body: md, expect: 201 })).json;
const form = new FormData();
form.append("file", new Blob([md]), "guide.md");
await call("/v1/documents", "post", "/v1/documents", { token: alpha, body: form, expect: 200 });
await call("/v1/documents", "post", "/v1/documents", { token: alpha, body: md, expect: 400 });
await call("/v1/documents", "post", "/v1/documents",
  { headers: { "X-Filename": "a.md" }, body: md, expect: 401 });
await call("/v1/documents", "post", "/v1/documents",
  { token: alpha, headers: { "X-Filename": "big.md" }, body: "x".repeat(Number(process.env.MAX_BYTES) + 1), expect: 413 });
const done = await waitJob(up.job_id, alpha, ["complete"]);
const bad = (await call("/v1/documents", "post", "/v1/documents",
  { token: alpha, headers: { "X-Filename": "broken.pdf" }, body: readFileSync(process.env.PDF_BAD), expect: 201 })).json;
await waitJob(bad.job_id, alpha, ["failed", "dead"]);

await call("/v1/documents/{id}", "get", `/v1/documents/${up.document_id}`, { token: alpha, expect: 200 });
await call("/v1/documents/{id}", "get", `/v1/documents/${up.document_id}`, { expect: 401 });
await call("/v1/documents/{id}", "get", `/v1/documents/${up.document_id}`, { token: beta, expect: 404 });

await call("/v1/jobs", "get", "/v1/jobs", { token: admin, expect: 200 });
await call("/v1/jobs", "get", "/v1/jobs?state=failed&limit=5", { token: alpha, expect: 200 });
await call("/v1/jobs", "get", "/v1/jobs?limit=many", { token: alpha, expect: 400 });
await call("/v1/jobs", "get", "/v1/jobs", { expect: 401 });
await call("/v1/jobs/{id}", "get", `/v1/jobs/${done.job_id}`, { token: alpha, expect: 200 });
await call("/v1/jobs/{id}", "get", `/v1/jobs/${bad.job_id}`, { token: admin, expect: 200 });
await call("/v1/jobs/{id}", "get", `/v1/jobs/${done.job_id}`, { expect: 401 });
await call("/v1/jobs/{id}", "get", `/v1/jobs/${done.job_id}`, { token: beta, expect: 404 });

for (const action of ["retry", "cancel", "requeue"]) {
  const t = `/v1/jobs/{id}/${action}`;
  await call(t, "post", `/v1/jobs/${done.job_id}/${action}`, { body: "{}", headers: json, expect: 401 });
  await call(t, "post", `/v1/jobs/${done.job_id}/${action}`, { token: beta, body: "{}", headers: json, expect: 404 });
}
await call("/v1/jobs/{id}/retry", "post", `/v1/jobs/${done.job_id}/retry`, { token: alpha, body: "", expect: 409 });
await call("/v1/jobs/{id}/retry", "post", `/v1/jobs/${bad.job_id}/retry`, { token: admin, body: "", expect: 200 });
await waitJob(bad.job_id, alpha, ["failed", "dead"]);
await call("/v1/jobs/{id}/cancel", "post", `/v1/jobs/${done.job_id}/cancel`, { token: alpha, body: "", expect: 409 });
await call("/v1/jobs/{id}/cancel", "post", `/v1/jobs/${bad.job_id}/cancel`, { token: alpha, body: "", expect: 200 });
await call("/v1/jobs/{id}/requeue", "post", `/v1/jobs/${done.job_id}/requeue`,
  { token: alpha, body: "{}", headers: json, expect: 400 });
await call("/v1/jobs/{id}/requeue", "post", `/v1/jobs/${done.job_id}/requeue`,
  { token: alpha, body: JSON.stringify({ from: "embed" }), headers: json, expect: 200 });
await waitJob(done.job_id, alpha, ["complete"]);

await call("/v1/search", "post", "/v1/search",
  { token: alpha, body: JSON.stringify({ query: "apples orchards", k: 3 }), headers: json, expect: 200 });
await call("/v1/search", "post", "/v1/search", { token: alpha, body: "{\"query\":", headers: json, expect: 400 });
await call("/v1/search", "post", "/v1/search", { body: "{}", headers: json, expect: 401 });
// Tenant "broke" has a $0 hard budget (set by the script): the query is refused, nothing sent.
await call("/v1/search", "post", "/v1/search",
  { token: admin, body: JSON.stringify({ query: "a question nobody asked", k: 3 }),
    headers: { ...json, "X-Tenant": "broke" }, expect: 429 });
// A lexical search embeds nothing: the spent budget does not stop it, and it answers alike.
const lexical = (await call("/v1/search", "post", "/v1/search",
  { token: admin, body: JSON.stringify({ query: "a question nobody asked", mode: "lexical", k: 3 }),
    headers: { ...json, "X-Tenant": "broke" }, expect: 200 })).json;
report(lexical?.mode === "lexical" && lexical?.model === null && Array.isArray(lexical?.results),
       "a lexical search embeds nothing, so a spent budget does not stop it", JSON.stringify(lexical));
await call("/v1/search", "post", "/v1/search",
  { token: alpha, body: JSON.stringify({ query: "apples", mode: "bm25" }), headers: json, expect: 400 });

// Documents as a collection: metadata and external_id on upload, listing, chunks, filtered
// search, deletion (issue 18).
const labelled = new FormData();
labelled.append("file", new Blob(["# Pears\n\nPears ripen off the tree in cool storage.\n"]), "pears.md");
labelled.append("metadata", JSON.stringify({ team: "orchard", year: 2024 }));
labelled.append("external_id", "notes/pears.md");
const pears = (await call("/v1/documents", "post", "/v1/documents", { token: alpha, body: labelled, expect: 201 })).json;
report(pears?.external_id === "notes/pears.md" && pears?.version === 1 && pears?.metadata?.team === "orchard",
       "upload answers with its external_id, version and metadata", JSON.stringify(pears));
await call("/v1/documents", "post", "/v1/documents",
  { token: alpha, headers: { "X-Filename": "x.md", "X-Metadata": "[1,2]" }, body: md + "x", expect: 400 });
await waitJob(pears.job_id, alpha, ["complete"]);
const listed = (await call("/v1/documents", "get", "/v1/documents?metadata.team=orchard&limit=5", { token: alpha, expect: 200 })).json;
report(listed?.documents?.length === 1 && listed.documents[0].document_id === pears.document_id,
       "the metadata filter lists the labelled document only", JSON.stringify(listed));
await call("/v1/documents", "get", "/v1/documents?limit=0", { token: alpha, expect: 400 });
await call("/v1/documents", "get", "/v1/documents", { expect: 401 });
await call("/v1/documents/{id}/chunks", "get", `/v1/documents/${pears.document_id}/chunks`, { token: alpha, expect: 200 });
await call("/v1/documents/{id}/chunks", "get", `/v1/documents/${pears.document_id}/chunks`, { expect: 401 });
await call("/v1/documents/{id}/chunks", "get", `/v1/documents/${pears.document_id}/chunks`, { token: beta, expect: 404 });
const filtered = (await call("/v1/search", "post", "/v1/search", { token: alpha, headers: json, expect: 200,
  body: JSON.stringify({ query: "pears storage", k: 5, filter: { metadata: { team: "orchard" } } }) })).json;
report(filtered?.results?.length > 0 && filtered.results.every((r) => r.document_id === pears.document_id && r.metadata.year === 2024),
       "a filtered search returns the labelled document's chunks with their metadata", JSON.stringify(filtered?.results?.map((r) => r.document_id)));
report(filtered?.mode === "hybrid" && filtered.results[0]?.ranks?.lexical >= 1 && filtered.results[0]?.ranks?.vector >= 1,
       "the default search is hybrid and says where each result ranked in both lists", JSON.stringify(filtered?.results?.[0]?.ranks));
const byText = (await call("/v1/search", "post", "/v1/search", { token: alpha, headers: json, expect: 200,
  body: JSON.stringify({ query: "ripen", mode: "lexical", k: 5, filter: { metadata: { team: "orchard" } } }) })).json;
report(byText?.results?.length === 1 && byText.results[0].document_id === pears.document_id && byText.results[0].ranks.vector === null,
       "a filtered lexical search finds the labelled document by a word of its text", JSON.stringify(byText?.results));
await call("/v1/documents/{id}", "delete", `/v1/documents/${pears.document_id}`, { expect: 401 });
await call("/v1/documents/{id}", "delete", `/v1/documents/${pears.document_id}`, { token: beta, expect: 404 });
await call("/v1/documents/{id}", "delete", `/v1/documents/${pears.document_id}`, { token: alpha, expect: 204 });
await call("/v1/documents/{id}", "delete", `/v1/documents/${pears.document_id}`, { token: alpha, expect: 404 });
const after = (await call("/v1/search", "post", "/v1/search",
  { token: alpha, headers: json, body: JSON.stringify({ query: "pears storage", k: 100 }), expect: 200 })).json;
report(after?.results?.every((r) => r.document_id !== pears.document_id), "search never returns the deleted document");
const afterText = (await call("/v1/search", "post", "/v1/search",
  { token: alpha, headers: json, body: JSON.stringify({ query: "pears ripen storage", mode: "lexical", k: 100 }), expect: 200 })).json;
report(afterText?.results?.every((r) => r.document_id !== pears.document_id), "lexical search never returns the deleted document");

// The seeded governor rows raise alerts within a few evaluations; wait for them so the alert
// schema is checked on real items.
for (let i = 0; i < 100; i++) {
  const a = await (await fetch(base + "/v1/alerts", { headers: { Authorization: "Bearer " + admin } })).json();
  if (a.firing.length >= 2) break;
  await new Promise((res) => setTimeout(res, 100));
}
await call("/v1/costs", "get", "/v1/costs", { token: admin, expect: 200 });
await call("/v1/costs", "get", "/v1/costs", { token: alpha, expect: 200 });
await call("/v1/costs", "get", "/v1/costs", { expect: 401 });
const stats = (await call("/v1/stats", "get", "/v1/stats", { token: admin, expect: 200 })).json;
// Budgets: the two seeded ones and tenant "broke"'s.
report(stats?.budgets?.length === 3 && stats?.providers?.length === 2 && stats?.alerts?.firing?.length >= 2,
       "admin stats carry budgets, providers and firing alerts", JSON.stringify(stats?.alerts?.firing?.map((a) => a.name)));
await call("/v1/stats", "get", "/v1/stats", { token: alpha, expect: 200 });
await call("/v1/stats", "get", "/v1/stats", { expect: 401 });
await call("/v1/alerts", "get", "/v1/alerts", { token: admin, expect: 200 });
await call("/v1/budgets", "get", "/v1/budgets", { token: admin, expect: 200 });
const own = (await call("/v1/budgets", "get", "/v1/budgets", { token: alpha, expect: 200 })).json;
report(own?.budgets?.length === 1 && own.budgets[0].key === "alpha", "a tenant sees only its own budget",
       JSON.stringify(own));
await call("/v1/budgets", "get", "/v1/budgets", { expect: 401 });
await call("/v1/alerts", "get", "/v1/alerts", { expect: 401 });
await call("/metrics", "get", "/metrics", { expect: 200 });

// The audit log (admin scope): the cancel and the delete above are in it, by tokens-file:alpha.
const audit = (await call("/v1/audit", "get", "/v1/audit?since=1h", { token: admin, expect: 200 })).json;
report(audit?.entries?.some((e) => e.action === "document.delete" && e.actor === "tokens-file:alpha" && e.result === "ok"),
       "the audit log names the tenant token that deleted a document", JSON.stringify(audit?.entries?.slice(-3)));
await call("/v1/audit", "get", "/v1/audit?limit=0", { token: admin, expect: 400 });
await call("/v1/audit", "get", "/v1/audit", { expect: 401 });

// Scopes and request rate limits (docs/security.md): every operation that names an
// x-required-scope answers 403 to a key without that scope, and 429 with Retry-After to a key
// over its rate limit (LIMITED_KEY allows one request a minute; the first one spends it).
const readKey = process.env.READ_KEY, ingestKey = process.env.INGEST_KEY, limitedKey = process.env.LIMITED_KEY;
await fetch(base + "/v1/jobs", { headers: { Authorization: "Bearer " + limitedKey } });
for (const [template, ops] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    const scope = op["x-required-scope"];
    if (!scope) continue;
    const url = template.replace("{id}", "0b1c0000-0000-4000-8000-000000000000");
    const opts = method === "post" ? { body: "{}", headers: json } : {};
    await call(template, method, url, { ...opts, token: scope === "read" ? ingestKey : readKey, expect: 403 });
    await call(template, method, url, { ...opts, token: limitedKey, expect: 429 });
  }
}
const limited = await fetch(base + "/v1/jobs", { headers: { Authorization: "Bearer " + limitedKey } });
const retryAfter = Number(limited.headers.get("retry-after"));
report(limited.status === 429 && Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
       `429 carries Retry-After in whole seconds (${limited.headers.get("retry-after")})`);

// Every documented answer was produced at least once.
for (const [template, ops] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    for (const status of Object.keys(op.responses || {})) {
      const key = `${method.toUpperCase()} ${template} ${status}`;
      if (NOT_EXERCISED[key]) { console.log(`skip - ${key}: ${NOT_EXERCISED[key]}`); continue; }
      report(seen.has(key), `documented ${key} was exercised`);
    }
  }
}
if (failures > 0) { console.log(`${failures} check(s) failed`); process.exit(1); }
console.log("all OpenAPI response checks passed");
