// browser.mjs - syncq web in a real browser (Debian chromium, playwright-core),
// run by tests/it/it_web_browser.sh, which starts the servers, the worker and
// the console and passes: BASE, SHOTS (screenshot dir), DEAD_ID (a dead job
// whose retry succeeds), XSS_ID (a job whose payload and target hold HTML).
// Exits 1 on the first failed check.
import { chromium } from "playwright-core";

const { BASE, SHOTS, DEAD_ID, XSS_ID } = process.env;
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };
const ok = (msg) => console.log("ok: " + msg);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
let dialogs = 0, scriptErrors = [];

async function session(name, password) {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await ctx.newPage();
  page.on("dialog", (d) => { dialogs++; d.dismiss(); });
  page.on("pageerror", (e) => scriptErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") scriptErrors.push(m.text()); });
  await page.goto(BASE + "/jobs");
  if (!page.url().endsWith("/login")) fail("no redirect to the login: " + page.url());
  await page.fill("input[name=name]", name);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(BASE + "/"), page.click("button[type=submit]")]);
  ok(name + " logged in");
  return page;
}

async function shot(page, file) {
  await page.screenshot({ path: `${SHOTS}/${file}`, fullPage: true });
}

// ---- the manager
const m = await session("alice", "manager-pw-1");
if (!(await m.locator("svg.chart").count())) fail("no chart on the overview");
await shot(m, "overview.png");

await m.goto(BASE + "/jobs");
await m.selectOption("select[name=status]", "dead");
await Promise.all([m.waitForURL(/status=dead/), m.click("form.filters button[type=submit]")]);
const statuses = await m.locator("#jobs tbody .status").allTextContents();
if (!statuses.length || statuses.some((s) => s !== "dead")) fail("the dead filter shows: " + statuses.join(","));
ok(`the jobs page filtered to ${statuses.length} dead job(s)`);
await shot(m, "jobs.png");

await Promise.all([m.waitForURL(/\/job\?id=/), m.click(`#jobs a:text-is("${DEAD_ID}")`)]);
if ((await m.locator(".kv .status").textContent()) !== "dead") fail("the job page of a dead job");
await shot(m, "job-dead.png");
await Promise.all([m.waitForURL(/\/job\?id=/), m.click("#retry")]);
const note = (await m.locator(".note.ok").textContent()) || "";
const match = note.match(/as (\S+)/);
if (!match) fail("no 'replayed ... as NEW' after the retry: " + note);
const newId = match[1].trim();
ok("retried as " + newId);
let status = "";
for (let i = 0; i < 100 && status !== "success"; i++) {
  await m.goto(BASE + "/job?id=" + encodeURIComponent(newId));
  status = (await m.locator(".kv .status").count()) ? await m.locator(".kv .status").textContent() : "";
  if (status !== "success") await m.waitForTimeout(200);
}
if (status !== "success") fail("the new job did not succeed: " + status);
if (!(await m.locator(`.kv a:text-is("${DEAD_ID}")`).count())) fail("the new job does not link its origin");
ok("the new job succeeded and links back to " + DEAD_ID);
await shot(m, "job-retried.png");

await m.goto(BASE + "/dlq");
await shot(m, "dlq.png");
await m.goto(BASE + "/queues");
if (!(await m.locator("#queues button").count())) fail("no pause button for the manager");
await shot(m, "queues.png");
await m.goto(BASE + "/snapshots");
await shot(m, "snapshots.png");

// ---- hostile values stay text
await m.goto(BASE + "/job?id=" + encodeURIComponent(XSS_ID));
const payload = (await m.locator("pre.payload").textContent()) || "";
if (!payload.includes("<script>alert(1)</script>")) fail("the payload is not shown as text: " + payload);
if (await m.locator("main script, main img").count()) fail("an element from a job's values reached the DOM");
const target = await m.locator("dd").allTextContents();
if (!target.some((t) => t.includes('"><img src=x onerror=alert(1)>'))) fail("the target id is not shown as text");
await shot(m, "job-xss.png");
await m.goto(BASE + "/jobs");
await m.waitForTimeout(300);
if (dialogs) fail(`${dialogs} dialog(s) fired`);
ok("the payload's <script> and the target's <img onerror> show as text; no dialog fired");
await shot(m, "jobs-all.png");

// ---- the viewer
const v = await session("bob", "viewer-pw-1");
for (const path of ["/job?id=" + encodeURIComponent(DEAD_ID), "/dlq", "/queues", "/jobs"]) {
  await v.goto(BASE + path);
  const buttons = await v.locator("main button:not(.filters button), main input[type=checkbox]").count();
  const acts = await v.locator("main form[method=post]").count();
  if (buttons || acts) fail(`the viewer sees ${buttons} action button(s), ${acts} form(s) on ${path}`);
}
ok("the viewer sees no action button");
await v.goto(BASE + "/job?id=" + encodeURIComponent(DEAD_ID));
await shot(v, "viewer-job.png");
if (dialogs) fail(`${dialogs} dialog(s) fired`);
if (scriptErrors.length) fail("script or CSP errors: " + scriptErrors.join(" | "));
ok("no script error and no CSP violation");
await browser.close();
