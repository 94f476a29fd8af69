// The ragd web UI: choose or create a knowledge base, upload files, browse
// documents and their chunks (and a streamed summary citing their parts),
// chat with a streamed answer whose [n]
// citations open the cited passage, keep and reopen conversations. With
// "Agent" on, questions go to the tool loop (model agent:<kb>) and its steps
// show folded under the answer.
// Talks only to ragd's own HTTP API (docs/API.md); no framework.

interface Citation {
  n: number;
  cited: boolean;
  label: string;
  source: string;
  page: number;
  row: number;
  heading_path: string;
  text: string;
}
interface AgentStep {
  index: number;
  tool: string;
  arguments: unknown;
  result: string;
  error: boolean;
  sources: number[];
  seconds: number;
}
interface Message {
  role: "user" | "assistant";
  content: string;
  citations?: Citation[];
  steps?: AgentStep[]; // an agent answer's tool calls
}
interface Conversation {
  id: string;
  kb: string;
  title: string;
  messages: Message[];
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// --- language ---------------------------------------------------------------
const TEXT: Record<string, Record<string, string>> = {
  en: {
    kbs: "Knowledge bases", newkb: "new knowledge base", create: "Create", docs: "Documents",
    convs: "Conversations", newconv: "New conversation", ask: "Ask a question about the knowledge base",
    send: "Send", uploading: "Uploading", uploaded: "Added {n} file(s), {c} chunks", failed: "Failed",
    nokb: "Create a knowledge base first", sources: "Sources", chunks: "chunks", lang: "中文",
    agent: "Agent", agenttip: "Answer with tools: several searches, the tables, a calculator",
    steps: "{n} step(s)", passages: "passages", summarize: "Summarize", similar: "Similar items",
  },
  zh: {
    kbs: "知识库", newkb: "新知识库名称", create: "创建", docs: "文档", convs: "对话", newconv: "新对话",
    ask: "向知识库提问", send: "发送", uploading: "上传中", uploaded: "已添加 {n} 个文件，{c} 个片段", failed: "失败",
    nokb: "请先创建知识库", sources: "来源", chunks: "个片段", lang: "English",
    agent: "智能体", agenttip: "用工具回答：多次检索、查表、计算", steps: "{n} 个步骤", passages: "片段", summarize: "生成摘要",
    similar: "相似条目",
  },
};
let lang = localStorage.getItem("ragd.lang") ?? (navigator.language.startsWith("zh") ? "zh" : "en");
const t = (key: string, vars: Record<string, string | number> = {}) =>
  (TEXT[lang][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll<HTMLElement>("[data-i18n]").forEach((el) => (el.textContent = t(el.dataset.i18n!)));
  document.querySelectorAll<HTMLInputElement>("[data-i18n-placeholder]").forEach(
    (el) => (el.placeholder = t(el.dataset.i18nPlaceholder!)));
  document.querySelectorAll<HTMLElement>("[data-i18n-title]").forEach((el) => (el.title = t(el.dataset.i18nTitle!)));
  $("lang").textContent = t("lang");
}

// --- API --------------------------------------------------------------------
function headers(json = true): Record<string, string> {
  const h: Record<string, string> = {};
  const key = localStorage.getItem("ragd.key");
  if (key) h["Authorization"] = "Bearer " + key;
  if (json) h["Content-Type"] = "application/json";
  return h;
}

function showError(message: string) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
  setTimeout(() => (box.hidden = true), 6000);
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, { method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const msg = data?.error?.message ?? `${res.status} ${res.statusText}`;
    if (res.status === 401) $("apikey").focus();
    throw new Error(msg);
  }
  return data as T;
}

// --- knowledge bases and documents ------------------------------------------
const kbSelect = $<HTMLSelectElement>("kb");
const currentKb = () => kbSelect.value;

async function loadKbs(select?: string) {
  const data = await api<{ knowledge_bases: { name: string; documents: number }[] }>("GET", "/api/kbs");
  kbSelect.innerHTML = "";
  for (const kb of data.knowledge_bases) {
    const o = document.createElement("option");
    o.value = kb.name;
    o.textContent = `${kb.name} (${kb.documents})`;
    kbSelect.append(o);
  }
  const want = select ?? localStorage.getItem("ragd.kb");
  if (want && data.knowledge_bases.some((k) => k.name === want)) kbSelect.value = want;
  await loadDocs();
}

async function loadDocs() {
  const list = $("docs");
  list.innerHTML = "";
  if (!currentKb()) return;
  localStorage.setItem("ragd.kb", currentKb());
  const data = await api<{ documents: { doc_id: string; source: string; chunk_count: number }[] }>(
    "GET", `/api/kbs/${encodeURIComponent(currentKb())}/documents`);
  for (const d of data.documents) {
    const li = document.createElement("li");
    li.textContent = `${d.source.split("/").pop()} · ${d.chunk_count} ${t("chunks")}`;
    li.title = d.source;
    li.onclick = () => showDocument(d.doc_id).catch((e) => showError(e.message));
    list.append(li);
  }
}

async function showDocument(docId: string) {
  const d = await api<{ source: string; summary: Summary | null;
                        chunks: { chunk_index: number; page: number; heading_path: string; text: string }[] }>(
    "GET", `/api/kbs/${encodeURIComponent(currentKb())}/documents/${encodeURIComponent(docId)}`);
  const pre = $("paneltext");
  pre.innerHTML = "";
  const button = document.createElement("button");
  button.id = "summarize";
  button.type = "button";
  button.textContent = t("summarize");
  const summary = document.createElement("div");
  summary.className = "summary";
  button.onclick = () => summarize(docId, button, summary).catch((e) => showError(e.message));
  const similar = document.createElement("div");
  similar.id = "similar";
  pre.append(button, summary, similar);
  if (d.summary) showSummary(summary, d.summary, docId); // the one kept with the document
  showSimilar(docId, similar).catch(() => similar.remove()); // a panel of extras: its failure hides it
  for (const c of d.chunks) {
    const div = document.createElement("div");
    div.className = "chunk";
    const where = [c.page ? `p.${c.page}` : "", c.heading_path].filter(Boolean).join(" · ");
    div.textContent = `#${c.chunk_index}${where ? " " + where : ""}\n${c.text}`;
    pre.append(div);
  }
  openPanel(d.source.split("/").pop() ?? d.source);
}

// Items like this document: ragd recommend --like (its embedding's
// neighbours and, where users' interactions were imported, the items read
// with it). Each opens like a document of the list.
async function showSimilar(docId: string, out: HTMLElement) {
  const r = await api<{ items: { item: string; title: string; sources: Record<string, number> }[] }>(
    "POST", `/api/kbs/${encodeURIComponent(currentKb())}/recommend`, { like: [docId], k: 5 });
  if (!r.items.length) return out.remove();
  const head = document.createElement("h4");
  head.textContent = t("similar");
  const list = document.createElement("ul");
  for (const it of r.items) {
    const li = document.createElement("li");
    li.textContent = it.title || it.item;
    li.title = Object.entries(it.sources).map(([k, v]) => `${k} #${v}`).join(", ");
    li.onclick = () => showDocument(it.item).catch((e) => showError(e.message));
    list.append(li);
  }
  out.append(head, list);
}

interface Summary {
  text: string;
  parts: { n: number; label: string; text: string; cited: boolean }[];
}

function showSummary(out: HTMLElement, s: Summary, docId: string) {
  const parts: Citation[] = s.parts.map((p) => ({
    n: p.n, cited: p.cited, label: p.label, source: docId, page: 0, row: 0, heading_path: "", text: p.text }));
  renderAnswer(out, s.text, parts);
  out.classList.add("done");
}

// A document's summary, streamed: progress over its parts on the button,
// the text as it comes, then the checked text whose [n] open the parts.
async function summarize(docId: string, button: HTMLButtonElement, out: HTMLElement) {
  button.disabled = true;
  out.textContent = "";
  const res = await fetch(`/api/kbs/${encodeURIComponent(currentKb())}/documents/${encodeURIComponent(docId)}/summary`, {
    method: "POST", headers: headers(), body: JSON.stringify({ stream: true, words: 120 }),
  });
  if (!res.ok || !res.body) {
    button.disabled = false;
    const data = await res.json().catch(() => ({}));
    throw new Error(data?.error?.message ?? String(res.status));
  }
  let text = "";
  try {
    await readEvents(res.body, (event) => {
      if (event.progress) button.textContent = `${t("summarize")} · ${event.progress.stage} ${event.progress.done}/${event.progress.total}`;
      if (typeof event.delta === "string") out.textContent = (text += event.delta).trimStart();
      if (event.summary) showSummary(out, event.summary, docId);
    });
  } finally {
    button.disabled = false;
    button.textContent = t("summarize");
  }
}

function openPanel(title: string) {
  $("paneltitle").textContent = title;
  $("panel").hidden = false;
}

function upload(files: FileList) {
  if (!currentKb()) return showError(t("nokb"));
  const form = new FormData();
  for (const f of Array.from(files)) form.append("files", f, f.name);
  const xhr = new XMLHttpRequest();
  const bar = $<HTMLProgressElement>("progress");
  const msg = $("uploadmsg");
  bar.hidden = false;
  bar.value = 0;
  msg.textContent = t("uploading");
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
  };
  xhr.onload = () => {
    bar.hidden = true;
    const data = JSON.parse(xhr.responseText || "{}");
    if (xhr.status >= 400 && !data.failed) {
      msg.textContent = "";
      return showError(data?.error?.message ?? String(xhr.status));
    }
    msg.textContent = t("uploaded", { n: (data.added ?? 0) + (data.updated ?? 0), c: data.chunks ?? 0 });
    for (const f of data.failed ?? []) msg.textContent += ` · ${t("failed")}: ${f.path}`;
    loadKbs(currentKb()).catch((e) => showError(e.message));
  };
  xhr.onerror = () => showError("upload failed");
  xhr.open("POST", `/api/kbs/${encodeURIComponent(currentKb())}/documents`);
  for (const [k, v] of Object.entries(headers(false))) xhr.setRequestHeader(k, v);
  xhr.send(form);
}

// --- conversations ------------------------------------------------------------
const conversations: Conversation[] = JSON.parse(localStorage.getItem("ragd.conversations") ?? "[]");
let current: Conversation | null = null;
const save = () => localStorage.setItem("ragd.conversations", JSON.stringify(conversations.slice(0, 50)));

function renderConversations() {
  const list = $("convs");
  list.innerHTML = "";
  for (const c of conversations) {
    const li = document.createElement("li");
    li.textContent = `${c.title} · ${c.kb}`;
    li.className = c === current ? "active" : "";
    li.onclick = () => openConversation(c);
    list.append(li);
  }
}

function openConversation(c: Conversation | null) {
  current = c;
  $("messages").innerHTML = "";
  for (const m of c?.messages ?? []) renderMessage(m);
  if (c && c.kb !== currentKb() && Array.from(kbSelect.options).some((o) => o.value === c.kb)) {
    kbSelect.value = c.kb;
    loadDocs().catch((e) => showError(e.message));
  }
  renderConversations();
}

// An answer's text with each [n] turned into a link to its passage.
function renderAnswer(el: HTMLElement, text: string, citations: Citation[] = []) {
  el.textContent = "";
  const parts = text.split(/(\[\d+(?:\s*,\s*\d+)*\])/);
  for (const part of parts) {
    const m = part.match(/^\[(\d+(?:\s*,\s*\d+)*)\]$/);
    if (!m || citations.length === 0) {
      el.append(part);
      continue;
    }
    el.append("[");
    m[1].split(",").map((s) => parseInt(s.trim(), 10)).forEach((n, i) => {
      if (i) el.append(", ");
      const c = citations.find((x) => x.n === n);
      const a = document.createElement("a");
      a.className = "cite";
      a.textContent = String(n);
      a.dataset.n = String(n);
      if (c) a.onclick = () => showCitation(c);
      el.append(a);
    });
    el.append("]");
  }
}

function showCitation(c: Citation) {
  $("paneltext").textContent = c.text;
  openPanel(`[${c.n}] ${c.label}`);
}

// One line per tool call: the tool, its arguments, what it gave back.
function renderStep(list: HTMLElement, s: AgentStep) {
  const line = document.createElement("div");
  line.className = s.error ? "step error" : "step";
  const args = typeof s.arguments === "string" ? s.arguments : JSON.stringify(s.arguments);
  const head = document.createElement("div");
  head.textContent = `${s.index}. ${s.tool} ${args}`;
  const result = document.createElement("div");
  result.className = "result";
  result.textContent = "→ " + (s.sources?.length ? `${t("passages")} ${s.sources.map((n) => `[${n}]`).join(" ")}`
                                                 : s.result.slice(0, 300)) + ` (${s.seconds.toFixed(1)} s)`;
  line.append(head, result);
  list.append(line);
}

// The steps of an agent answer, folded under it (open while it streams).
function stepsBox(div: HTMLElement, steps: AgentStep[], open: boolean): HTMLElement {
  const box = document.createElement("details");
  box.className = "steps";
  box.open = open;
  const summary = document.createElement("summary");
  summary.textContent = t("steps", { n: steps.length });
  box.append(summary);
  for (const s of steps) renderStep(box, s);
  div.append(box);
  return box;
}

function renderMessage(m: Message): HTMLElement {
  const div = document.createElement("div");
  div.className = `msg ${m.role}`;
  const body = document.createElement("div");
  body.className = "body";
  div.append(body);
  if (m.role === "assistant") renderAnswer(body, m.content, m.citations);
  else body.textContent = m.content;
  if (m.steps) stepsBox(div, m.steps, false);
  if (m.citations?.length) {
    const src = document.createElement("div");
    src.className = "sources";
    src.append(`${t("sources")}:`);
    for (const c of m.citations) {
      const line = document.createElement("div");
      line.textContent = `[${c.n}]${c.cited ? "*" : ""} ${c.label}`;
      line.onclick = () => showCitation(c);
      src.append(line);
    }
    div.append(src);
  }
  $("messages").append(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

// Server-sent events: "data: {json}" lines, "data: [DONE]" at the end. An
// event carrying an error ends the stream with that error.
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (event: any) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith("data:")) continue;
      const payload = line.slice(5).trim();
      if (payload === "[DONE]") continue;
      const event = JSON.parse(payload);
      if (event.error) throw new Error(event.error.message);
      onEvent(event);
    }
  }
}

async function ask(question: string) {
  if (!currentKb()) return showError(t("nokb"));
  if (!current || current.kb !== currentKb()) {
    current = { id: String(Date.now()), kb: currentKb(), title: question.slice(0, 40), messages: [] };
    conversations.unshift(current);
  }
  const conv = current;
  const history = conv.messages.map((m) => ({ role: m.role, content: m.content }));
  const userMsg: Message = { role: "user", content: question };
  conv.messages.push(userMsg);
  renderMessage(userMsg);
  const agent = $<HTMLInputElement>("agentmode").checked;
  const answer: Message = { role: "assistant", content: "", ...(agent ? { steps: [] } : {}) };
  const el = renderMessage(answer);
  const body = el.querySelector<HTMLElement>(".body")!;
  const steps = el.querySelector<HTMLDetailsElement>("details.steps");
  if (steps) steps.open = true;
  el.classList.add("streaming");
  const res = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({ model: (agent ? "agent:" : "kb:") + conv.kb, stream: true,
                           messages: [...history, { role: "user", content: question }] }),
  });
  if (!res.ok || !res.body) {
    const data = await res.json().catch(() => ({}));
    el.remove();
    conv.messages.pop();
    throw new Error(data?.error?.message ?? String(res.status));
  }
  let checked: string | null = null;
  await readEvents(res.body, (event) => {
    const choice = event.choices?.[0];
    if (choice?.delta?.content) {
      answer.content += choice.delta.content;
      body.textContent = answer.content.trimStart();
    }
    const step: AgentStep | undefined = choice?.delta?.agent_step;
    if (step && steps && answer.steps) {
      answer.steps.push(step);
      renderStep(steps, step);
      steps.querySelector("summary")!.textContent = t("steps", { n: answer.steps.length });
    }
    if (Array.isArray(event.agent_steps)) answer.steps = event.agent_steps;
    if (event.sources) answer.citations = event.sources; // the numbered sources, each with cited
    if (typeof event.answer === "string") checked = event.answer; // citations checked by ragd
  });
  answer.content = (checked ?? answer.content).trim();
  el.remove();
  conv.messages.push(answer);
  renderMessage(answer).classList.add("done");
  save();
  renderConversations();
}

// --- wiring -----------------------------------------------------------------
async function main() {
  applyLanguage();
  const key = $<HTMLInputElement>("apikey");
  key.value = localStorage.getItem("ragd.key") ?? "";
  key.onchange = () => {
    localStorage.setItem("ragd.key", key.value);
    loadKbs().catch((e) => showError(e.message));
  };
  $("lang").onclick = () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("ragd.lang", lang);
    applyLanguage();
  };
  kbSelect.onchange = () => loadDocs().catch((e) => showError(e.message));
  $<HTMLFormElement>("newkb").onsubmit = async (e) => {
    e.preventDefault();
    const name = $<HTMLInputElement>("newkbname").value.trim();
    if (!name) return;
    try {
      await api("POST", "/api/kbs", { name });
      $<HTMLInputElement>("newkbname").value = "";
      await loadKbs(name);
    } catch (err) {
      showError((err as Error).message);
    }
  };
  $<HTMLInputElement>("files").onchange = (e) => {
    const files = (e.target as HTMLInputElement).files;
    if (files?.length) upload(files);
  };
  $("newconv").onclick = () => openConversation(null);
  const agentMode = $<HTMLInputElement>("agentmode");
  agentMode.checked = localStorage.getItem("ragd.agent") === "1";
  agentMode.onchange = () => localStorage.setItem("ragd.agent", agentMode.checked ? "1" : "0");
  $("closepanel").onclick = () => ($("panel").hidden = true);
  const question = $<HTMLTextAreaElement>("question");
  $<HTMLFormElement>("ask").onsubmit = (e) => {
    e.preventDefault();
    const q = question.value.trim();
    if (!q) return;
    question.value = "";
    ask(q).catch((err) => showError(err.message));
  };
  question.onkeydown = (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $<HTMLFormElement>("ask").requestSubmit();
    }
  };
  fetch("/health").then((r) => r.json()).then((h) => ($("backend").textContent = `${h.model} · ${h.backend}`));
  renderConversations();
  await loadKbs();
}

main().catch((e) => showError(e.message));
