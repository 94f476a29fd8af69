// Browser test of the web UI with Debian's Chromium driven by playwright-core:
// create a knowledge base, upload documents with progress, browse a
// document's chunks and summarize it, ask a question and watch the answer stream, open a
// citation, reopen the conversation after a reload, ask the agent and see
// its steps folded under the answer, switch to Chinese.
// Saves screenshots to web/test-artifacts/ (chat.png, agent.png with the steps unfolded).
//   node web/tests/ui_test.mjs RAGD SOURCE_DIR
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [ragd, src] = process.argv.slice(2).map((p) => path.resolve(p));
const KEY = "ui-key";
const data = mkdtempSync(path.join(tmpdir(), "ragd-ui-"));
const failures = [];
const check = (name, ok, detail = "") => {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : " " + detail}`);
  if (!ok) failures.push(name);
};

const server = spawn(ragd, ["serve", "--port", "0", "--api-key", KEY, "--temperature", "0", "--max-tokens", "48"], {
  env: { ...process.env, RAGD_DATA_DIR: data },
  stdio: ["ignore", "ignore", "pipe"],
});
const url = await new Promise((resolve, reject) => {
  let err = "";
  server.stderr.on("data", (d) => {
    err += d;
    const m = err.match(/http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) resolve(`http://127.0.0.1:${m[1]}`);
  });
  server.on("exit", () => reject(new Error("ragd serve exited: " + err)));
});

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true,
                                        args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript((key) => {
    localStorage.setItem("ragd.key", key);
    localStorage.setItem("ragd.lang", "en");
  }, KEY);
  await page.goto(url + "/");
  // /health is fetched after load, so wait for its text rather than reading the element once.
  const backendShown = await page.waitForFunction(() => document.querySelector("#backend")?.textContent?.includes("local"),
                                                  null, { timeout: 10000 }).then(() => true).catch(() => false);
  check("the page loads and shows the backend", backendShown);

  await page.fill("#newkbname", "ui");
  await page.click("#newkb button");
  const created = await page.waitForFunction(() => document.querySelector("#kb")?.value === "ui", null, { timeout: 10000 })
    .then(() => true).catch(() => false);
  check("a knowledge base is created from the page", created);

  await page.setInputFiles("#files", [path.join(src, "examples/bank-kb/handbook.md"),
                                      path.join(src, "examples/bank-kb/faq.csv")]);
  await page.waitForFunction(() => /Added 2 file/.test(document.querySelector("#uploadmsg")?.textContent ?? ""),
                             null, { timeout: 60000 });
  await page.waitForFunction(() => document.querySelectorAll("#docs li").length === 2, null, { timeout: 10000 })
    .catch(() => {});
  const docs = await page.$$eval("#docs li", (lis) => lis.map((li) => li.textContent));
  check("uploaded files are listed", docs.length === 2 && docs.some((d) => d.startsWith("handbook.md")), JSON.stringify(docs));

  await page.click("#docs li:has-text('handbook.md')");
  await page.waitForSelector("#panel:not([hidden]) .chunk");
  const chunks = await page.$$eval("#paneltext .chunk", (els) => els.length);
  check("a document opens with its chunks", chunks > 1, `${chunks} chunks`);
  // Similar items (ragd recommend --like): with two documents, the other one; clicking it opens it.
  const similar = await page.waitForSelector("#similar li", { timeout: 10000 }).then(() => true).catch(() => false);
  const similarItems = similar ? await page.$$eval("#similar li", (lis) => lis.map((li) => li.textContent)) : [];
  check("the document view lists similar items", similarItems.length === 1, JSON.stringify(similarItems));
  if (similarItems.length === 1) {
    await page.click("#similar li");
    const opened = await page.waitForFunction(() => /faq\.csv/.test(document.querySelector("#paneltitle")?.textContent ?? ""),
                                              null, { timeout: 10000 }).then(() => true).catch(() => false);
    check("a similar item opens like a document", opened);
    await page.click("#closepanel");
    await page.click("#docs li:has-text('handbook.md')");
    await page.waitForSelector("#panel:not([hidden]) .chunk");
  }
  await page.click("#summarize");
  const summarized = await page.waitForSelector("#paneltext .summary.done", { timeout: 180000 }).then(() => true).catch(() => false);
  const summaryText = summarized ? await page.textContent("#paneltext .summary") : "";
  check("a document's summary streams into its view, citing its parts", summarized && summaryText.trim().length > 0 &&
        (await page.$$("#paneltext .summary a.cite")).length > 0, summaryText);
  await page.click("#closepanel");
  await page.click("#docs li:has-text('handbook.md')");
  const summaryKept = await page.waitForSelector("#paneltext .summary.done", { timeout: 10000 }).then(() => true).catch(() => false);
  check("the summary is kept with the document", summaryKept && (await page.textContent("#paneltext .summary")) === summaryText);
  await page.click("#closepanel");

  await page.fill("#question", "How long does an international wire transfer take?");
  await page.click("#send");
  // Streaming: the answer shows text before it is complete.
  const partial = await page.waitForSelector(".msg.assistant.streaming .body:not(:empty)", { timeout: 60000 })
    .then(() => true).catch(() => false);
  check("the answer streams in", partial);
  await page.waitForSelector(".msg.assistant.done", { timeout: 120000 });
  const answer = await page.textContent(".msg.assistant.done .body");
  check("an answer arrives", answer.trim().length > 0, answer);
  const cite = await page.$(".msg.assistant.done a.cite");
  check("the answer has a [n] citation link", cite !== null, answer);
  if (cite) {
    await cite.click();
    await page.waitForSelector("#panel:not([hidden])");
    const passage = await page.textContent("#paneltext");
    const title = await page.textContent("#paneltitle");
    check("the citation opens the cited passage", passage.length > 20 && /^\[\d+\]/.test(title), title);
  }
  mkdirSync(path.join(src, "web/test-artifacts"), { recursive: true });
  await page.screenshot({ path: path.join(src, "web/test-artifacts/chat.png"), fullPage: true });

  await page.reload();
  await page.waitForSelector("#convs li");
  await page.click("#convs li");
  // The conversation is fetched after the click; wait for it instead of counting at once.
  await page.waitForFunction(() => document.querySelectorAll("#messages .msg").length >= 2, null, { timeout: 10000 })
    .catch(() => {});
  const restored = await page.$$eval("#messages .msg", (m) => m.length);
  check("a conversation reopens after a reload", restored === 2, `${restored} messages`);

  // The agent: its steps arrive while it works, then fold under the answer.
  await page.click("#newconv");
  await page.check("#agentmode");
  await page.fill("#question", "How long does an international wire transfer take?");
  await page.click("#send");
  const liveStep = await page.waitForSelector(".msg.assistant.streaming details.steps[open] .step", { timeout: 120000 })
    .then(() => true).catch(() => false);
  check("the agent's steps show as they happen", liveStep);
  await page.waitForSelector(".msg.assistant.done", { timeout: 300000 });
  const folded = await page.$eval(".msg.assistant.done details.steps", (d) => ({
    open: d.open, summary: d.querySelector("summary").textContent,
    first: d.querySelector(".step")?.textContent ?? "" })).catch(() => null);
  check("an agent answer has its steps folded under it",
        folded !== null && !folded.open && /^\d+ step/.test(folded.summary) && folded.first.startsWith("1. search_kb {"),
        JSON.stringify(folded));
  const agentAnswer = await page.textContent(".msg.assistant.done .body");
  check("the agent answers", agentAnswer.trim().length > 0, agentAnswer);
  await page.click(".msg.assistant.done details.steps summary");
  await page.screenshot({ path: path.join(src, "web/test-artifacts/agent.png"), fullPage: true });
  await page.reload();
  await page.waitForSelector("#convs li");
  await page.click("#convs li");
  const kept = await page.waitForSelector(".msg.assistant details.steps .step", { state: "attached", timeout: 10000 }).then(() => true).catch(() => false);
  check("the steps are kept with the conversation", kept);
  check("the agent switch is remembered", await page.isChecked("#agentmode"));

  await page.click("#lang");
  check("the page switches to Chinese", (await page.textContent("aside h2")) === "知识库");
} catch (e) {
  check("no exception", false, e.stack);
} finally {
  await browser.close();
  server.kill("SIGTERM");
}
console.log(failures.length ? `${failures.length} failed` : "all passed");
process.exit(failures.length ? 1 : 0);
