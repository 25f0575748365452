// Drives the dashboard of a running `ingestd serve` in headless Chromium.
// Usage: node dashboard.test.mjs BASE_URL ARTIFACT_DIR   (INGESTD_ADMIN_TOKEN, BAD_PDF, GOOD_MD set)
// Checks: the page loads and shows the instance's numbers (compared with GET /v1/stats), the
// numbers change after an upload, a corrupt PDF's failure is listed with its error code, and the
// admin's Retry button re-queues the job. Screenshots go to ARTIFACT_DIR.
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";

const [base, artifacts] = process.argv.slice(2);
const admin = process.env.INGESTD_ADMIN_TOKEN;
mkdirSync(artifacts, { recursive: true });

let failures = 0;
function check(what, ok, detail = "") {
  console.log((ok ? "ok   - " : "FAIL - ") + what + (ok || !detail ? "" : ` (${detail})`));
  if (!ok) failures++;
}

async function apiGet(path) {
  const r = await fetch(base + path, { headers: { Authorization: "Bearer " + admin } });
  return r.json();
}

async function upload(name, bytes) {
  const r = await fetch(base + "/v1/documents", {
    method: "POST",
    headers: { Authorization: "Bearer " + admin, "X-Filename": name },
    body: bytes,
  });
  if (r.status !== 201) throw new Error(`upload ${name}: HTTP ${r.status}`);
  return r.json();
}

async function waitJob(id, states) {
  for (let i = 0; i < 300; i++) {
    const j = await apiGet("/v1/jobs/" + id);
    if (states.includes(j.state)) return j;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`job ${id} never reached ${states}`);
}

const text = (page, sel) => page.locator(sel).first().textContent({ timeout: 10000 });

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  await page.goto(base + "/");
  check("page title", (await page.title()) === "ingestd");
  check("asks for a token first", (await text(page, "#status")) === "enter a token");

  await page.fill("#token", admin);
  await page.click("#save");
  await page.waitForSelector("#tile-complete", { timeout: 10000 });
  const stats0 = await apiGet("/v1/stats");
  check("Complete tile shows the instance's count",
        (await text(page, "#tile-complete")) === String(stats0.jobs.complete),
        `${await text(page, "#tile-complete")} vs ${stats0.jobs.complete}`);
  check("Workers tile shows the pool size",
        (await text(page, "#tile-workers")) === String(stats0.workers));
  check("query spend shown beside ingestion spend",
        (await text(page, "#tile-spend-query")).startsWith("$") &&
        (await text(page, "#tile-spend-ingestion")).startsWith("$") &&
        typeof stats0.spend.query_usd === "number",
        `${await text(page, "#tile-spend-ingestion")} / ${await text(page, "#tile-spend-query")}`);
  check("jobs table lists every state",
        (await page.locator("#jobs tr").count()) === Object.keys(stats0.jobs).length);
  // The store's governor rows (seeded by the script) show as budgets, provider health and
  // alerts evaluated in-process.
  const stopped = page.locator('#alert-rows tr[data-alert="IngestdProviderStopped"]');
  await stopped.waitFor({ timeout: 10000 }).catch(() => {});
  check("firing alert for the stopped provider is shown",
        (await stopped.count()) === 1 && (await stopped.getAttribute("data-state")) === "firing",
        await text(page, "#alert-rows"));
  check("budget at its limit is shown as firing",
        (await page.locator('#alert-rows tr[data-alert="IngestdBudgetExhausted"]').count()) === 1);
  check("budgets table lists both budgets",
        (await page.locator("#budgets tr[data-budget]").count()) === 2);
  check("the tenant budget shows its limit",
        (await text(page, '#budgets tr[data-budget="tenant:alpha:month"]')).includes("$25.00"));
  check("provider health shows llamaparse stopped",
        (await text(page, '#providers tr[data-provider="llamaparse"]')).includes("stopped: insufficient_quota"));
  check("provider health shows openai rate-limit headroom",
        /requests \d+ \/ 3000 tokens \d+ \/ 1000000/.test(await text(page, '#providers tr[data-provider="openai"]')),
        await text(page, '#providers tr[data-provider="openai"]'));
  check("hard-limit deferrals are called out above the budgets",
        (await text(page, "#budget-deferrals")).startsWith("Hard limit: 1 job deferred by a budget"),
        await text(page, "#budget-deferrals"));
  check("the deferred job is listed with its reason and the budget's message",
        (await page.locator('#deferred tr[data-reason="budget_exceeded"]').count()) === 1 &&
        (await text(page, '#deferred tr[data-reason="budget_exceeded"]')).includes("llamaparse day budget"),
        await text(page, "#deferred"));
  check("token is not left in the input", (await page.inputValue("#token")) === "");
  await page.screenshot({ path: `${artifacts}/dashboard-initial.png`, fullPage: true });

  // Ingest a document: the Complete tile and the documents counter move.
  const good = await upload("guide.md", readFileSync(process.env.GOOD_MD));
  await waitJob(good.job_id, ["complete"]);
  const want = String(stats0.jobs.complete + 1);
  await page.waitForFunction((w) => document.querySelector("#tile-complete")?.textContent === w,
                             want, { timeout: 10000 }).catch(() => {});
  check("Complete tile goes up after an ingest", (await text(page, "#tile-complete")) === want,
        await text(page, "#tile-complete"));
  // Worker counters are bumped just after the job's transition is written: give it a poll.
  await page.waitForFunction(() => Number(document.querySelector("#tile-done")?.textContent) >= 1,
                             null, { timeout: 10000 }).catch(() => {});
  check("Documents done counter goes up", Number(await text(page, "#tile-done")) >= 1);
  // Throughput is the server's (finished jobs in the store), so it moves without a second poll
  // baseline: the line has one point per minute of the last 30, and the rate is above zero.
  await page.waitForFunction(() => Number(document.querySelector("#tile-throughput")?.textContent) > 0,
                             null, { timeout: 10000 }).catch(() => {});
  check("Docs / min is above zero right after a document finished",
        Number(await text(page, "#tile-throughput")) > 0, await text(page, "#tile-throughput"));
  check("throughput line has 30 points",
        (await page.locator("#spark polyline").getAttribute("points")).trim().split(" ").length === 30);
  check("stage latencies are listed",
        (await page.locator("#stages tr", { hasText: "embed" }).count()) === 1);
  await page.screenshot({ path: `${artifacts}/dashboard-after-ingest.png`, fullPage: true });

  // A corrupt PDF fails; it shows in recent failures and errors by code.
  const bad = await upload("broken.pdf", readFileSync(process.env.BAD_PDF));
  const failed = await waitJob(bad.job_id, ["failed", "dead"]);
  const row = page.locator(`#failures tr[data-job="${bad.job_id}"]`);
  await row.waitFor({ timeout: 10000 });
  check("failed job listed with its error code",
        (await row.textContent()).includes(failed.last_error_code), failed.last_error_code);
  await page.locator(`#errors tr[data-code="${failed.last_error_code}"]`).waitFor({ timeout: 10000 });
  check("errors by code counts it",
        (await text(page, `#errors tr[data-code="${failed.last_error_code}"]`)).includes("1"));
  check("Failed + dead tile counts it", Number(await text(page, "#tile-failed")) >= 1);
  await page.screenshot({ path: `${artifacts}/dashboard-failure.png`, fullPage: true });

  // Retry as admin: the job goes back to the queue (the server answers with its new state) and
  // is attempted again.
  const before = await apiGet("/v1/jobs/" + bad.job_id);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/v1/jobs/${bad.job_id}/retry`)),
    row.locator("button.retry").click(),
  ]);
  const retried = await resp.json();
  check("retry answered 200", resp.status() === 200, String(resp.status()));
  check("job re-queued by the retry", retried.state === "queued", retried.state);
  await page.waitForFunction(() => document.querySelector("#status")?.textContent.startsWith("retried"),
                             null, { timeout: 10000 }).catch(() => {});
  check("status line reports the retry",
        (await text(page, "#status")).includes("retried " + bad.job_id.slice(0, 8)),
        await text(page, "#status"));
  const after = await waitJob(bad.job_id, ["failed", "dead"]);
  const retries = (after.events || []).filter((e) => e.kind === "job.retry");
  check("the job's history records the retry back to queued",
        retries.length === 1 && retries[0].detail.to_state === "queued", JSON.stringify(retries));
  check("the retried job ran again",
        (after.events || []).length >= (before.events || []).length + 2,
        `${(before.events || []).length} -> ${(after.events || []).length} events`);
  await page.screenshot({ path: `${artifacts}/dashboard-after-retry.png`, fullPage: true });

  // A tenant token sees no Retry buttons and no admin tiles.
  const tenantPage = await browser.newPage();
  await tenantPage.goto(base + "/");
  await tenantPage.fill("#token", process.env.TENANT_TOKEN);
  await tenantPage.click("#save");
  await tenantPage.waitForSelector("#tile-complete", { timeout: 10000 });
  check("tenant view has no admin tiles", (await tenantPage.locator("#tile-workers").count()) === 0);
  check("tenant view has no retry buttons",
        (await tenantPage.locator("#failures button.retry").count()) === 0);
  check("no JavaScript errors", consoleErrors.length === 0, consoleErrors.join("; "));
} catch (e) {
  check("dashboard test ran to the end", false, e.stack || String(e));
} finally {
  await browser.close();
}
if (failures > 0) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log("all browser checks passed");
