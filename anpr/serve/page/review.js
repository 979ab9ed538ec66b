// The review page: read dropped crops with POST /read, queue the reads flagged "review", and save
// each decision with POST /review (accept, pick an alternative, or type the text). Keyboard first.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { info: null, items: [], current: null, confirmInvalid: null, token: "" };

function tokenFromPage() {
  const match = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (match) sessionStorage.setItem("anpr-token", decodeURIComponent(match[1]));
  return sessionStorage.getItem("anpr-token") || "";
}

function authHeaders() {
  const token = state.token || $("token").value.trim();
  return token ? { Authorization: "Bearer " + token } : {};
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  return { ok: response.ok, status: response.status, body };
}

function errorText(reply) {
  const error = reply.body && reply.body.error;
  return error ? `${error.message} (${error.kind})` : `HTTP ${reply.status}`;
}

async function start() {
  state.token = tokenFromPage();
  const reply = await api("/info");
  if (!reply.ok) { setStatus("server not reachable", "error"); return; }
  state.info = reply.body;
  const review = state.info.review;
  $("token-box").hidden = !(review.enabled && review.token_required && !state.token);
  if (!state.info.ready) { setStatus("model loading…"); setTimeout(start, 500); return; }
  const saving = review.enabled ? "reviews are saved" : "reviews are not saved (no --review-dir)";
  const threshold = state.info.min_confidence === null ? "no --min-confidence: click a read to review it"
    : `reads below ${state.info.min_confidence} are queued`;
  setStatus(`ready · ${state.info.model} · ${threshold} · ${saving}`, "ready");
  refreshSavedCount();
}

function setStatus(text, kind = "") { $("status").textContent = text; $("status").className = kind; }

async function refreshSavedCount() {
  if (!state.info || !state.info.review.enabled) return;
  const reply = await api("/reviews?limit=0", { headers: authHeaders() });
  $("saved-count").textContent = reply.ok ? `${reply.body.count} reviewed` : "";
}

// ---- reading ----
async function addFiles(fileList) {
  const files = Array.from(fileList).filter((f) => f.size > 0);
  if (!files.length) return;
  const added = files.map((file) => {
    const item = { id: state.items.length, file, url: URL.createObjectURL(file), result: null, status: "pending" };
    state.items.push(item);
    return item;
  });
  renderGrid();
  const chunk = (state.info && state.info.max_images) || 16;
  for (let i = 0; i < added.length; i += chunk) await readChunk(added.slice(i, i + chunk));
  renderGrid();
  if (state.current === null) nextInQueue(-1);
}

async function readChunk(items) {
  const form = new FormData();
  items.forEach((item) => form.append("image", item.file, item.file.name));
  const reply = await api("/read", { method: "POST", body: form });
  const results = reply.body && reply.body.results;
  items.forEach((item, k) => {
    item.result = results ? results[k] : { error: (reply.body && reply.body.error) || { message: errorText(reply) } };
    item.status = item.result.error ? "error" : (item.result.review ? "review" : "read");
  });
}

function queue() { return state.items.filter((item) => item.status === "review"); }

// ---- the grid of all reads ----
function renderGrid() {
  const grid = $("grid");
  grid.replaceChildren(...state.items.map((item) => {
    const card = document.createElement("div");
    card.className = `item ${item.status}` + (state.current === item.id ? " current" : "");
    card.dataset.id = item.id;
    const img = document.createElement("img");
    img.src = item.url; img.alt = item.file.name;
    const text = document.createElement("div"); text.className = "text";
    const meta = document.createElement("div"); meta.className = "meta";
    if (!item.result) { text.textContent = "…"; }
    else if (item.result.error) { text.textContent = "error"; meta.textContent = item.result.error.message; }
    else {
      text.textContent = item.saved ? item.saved.text : (item.result.text || "(nothing)");
      meta.textContent = `${item.result.confidence.toFixed(3)} · ${item.status}` + (item.saved ? ` (${item.saved.decision})` : "");
    }
    card.append(img, text, meta);
    card.addEventListener("click", () => { if (item.result && !item.result.error) show(item.id); });
    return card;
  }));
}

// ---- the panel: one read under review ----
function show(id) {
  state.current = id; state.confirmInvalid = null;
  const item = state.items[id], read = item.result;
  $("panel").hidden = false;
  $("crop").src = item.url;
  $("read-text").textContent = read.text || "(nothing)";
  $("read-confidence").textContent = `confidence ${read.confidence.toFixed(3)}`;
  const fmt = $("read-format");
  fmt.textContent = read.valid_format === false ? "does not fit a plate format" : (read.valid_format ? "fits a plate format" : "");
  fmt.className = read.valid_format === false ? "fmt-warn" : "fmt-ok";
  const alternatives = (read.alternatives || []).slice(0, 9);
  $("alternatives").replaceChildren(...alternatives.map(([text, p]) => {
    const li = document.createElement("li"); li.textContent = `${text}  ${p.toFixed(3)}`; return li;
  }));
  $("correction").value = item.saved ? item.saved.text : read.text;
  $("check").textContent = ""; setMessage("");
  const left = queue().length;
  $("queue-note").textContent = `${item.file.name} · ${left} left to review` + (item.saved ? ` · saved as ${item.saved.text}` : "");
  renderGrid();
}

function nextInQueue(direction = 1) {
  const ids = queue().map((item) => item.id);
  if (!ids.length) {
    if (state.current !== null) setMessage("nothing left to review", "ok");
    return;
  }
  const from = state.current === null ? -1 : state.current;
  const forward = ids.filter((id) => (direction > 0 ? id > from : id < from));
  const id = forward.length ? (direction > 0 ? forward[0] : forward[forward.length - 1]) : ids[0];
  show(id);
}

function setMessage(text, kind = "") { $("message").textContent = text; $("message").className = kind; }

// ---- saving a decision ----
async function save(text, decision, allowInvalid = false) {
  if (state.current === null) return;
  const item = state.items[state.current];
  if (!state.info.review.enabled) { setMessage("reviews are not saved: start the server with --review-dir DIR", "error"); return; }
  const form = new FormData();
  form.append("image", item.file, item.file.name);
  form.append("text", text);
  form.append("decision", decision);
  if (allowInvalid) form.append("allow_invalid", "true");
  const reply = await api("/review", { method: "POST", body: form, headers: authHeaders() });
  if (reply.ok) {
    item.saved = reply.body; item.status = "saved"; state.confirmInvalid = null;
    refreshSavedCount();
    const before = state.current;
    nextInQueue(1);
    if (state.current === before) show(before);
    setMessage(`saved ${reply.body.text} (${decision})` + (queue().length ? "" : " · nothing left to review"), "ok");
    return;
  }
  const kind = reply.body && reply.body.error && reply.body.error.kind;
  if (kind === "invalid_format") {
    state.confirmInvalid = { text, decision };
    setMessage(`${text} does not fit any plate format: press Enter again to save it anyway, or edit it`, "warn");
    return;
  }
  if (kind === "unauthorized") $("token-box").hidden = false;
  setMessage(errorText(reply), "error");
}

function accept() {
  const read = state.items[state.current].result;
  save(read.text, "accepted");
}

function pickAlternative(n) {
  const read = state.items[state.current].result;
  const alternative = (read.alternatives || [])[n - 1];
  if (!alternative) return;
  save(alternative[0], alternative[0] === read.text ? "accepted" : "alternative");
}

async function checkTyped() {
  const text = $("correction").value;
  state.confirmInvalid = null;
  if (!text.trim()) { $("check").textContent = ""; return; }
  const reply = await api("/validate?text=" + encodeURIComponent(text));
  if ($("correction").value !== text) return;  // typed on meanwhile
  const check = $("check");
  if (!reply.ok) { check.textContent = errorText(reply); check.className = "warn"; return; }
  const fits = reply.body.valid_format;
  check.textContent = `${reply.body.text} · ` + (fits === false ? "does not fit a plate format" : "fits a plate format");
  check.className = fits === false ? "warn" : "ok";
}

function saveTyped() {
  const typed = $("correction").value;
  const read = state.items[state.current].result;
  const pending = state.confirmInvalid;
  if (pending && pending.text === typed) { save(typed, pending.decision, true); return; }
  const alternatives = (read.alternatives || []).map(([text]) => text);
  const upper = typed.toUpperCase().replace(/[\s.-]/g, "");
  const decision = upper === read.text ? "accepted" : (alternatives.includes(upper) ? "alternative" : "corrected");
  save(typed, decision);
}

// ---- keys ----
function onKey(event) {
  const typing = document.activeElement === $("correction") || document.activeElement === $("token");
  if (typing) {
    if (event.key === "Escape") { document.activeElement.blur(); event.preventDefault(); }
    return;  // Enter in the text field submits its form
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "o") { $("files").click(); event.preventDefault(); return; }
  if (state.current === null) return;
  const read = state.items[state.current].result;
  if (event.key === "Enter" || event.key === "a") {
    const pending = state.confirmInvalid;
    if (pending) save(pending.text, pending.decision, true); else accept();
  } else if (/^[1-9]$/.test(event.key)) { pickAlternative(Number(event.key)); }
  else if (event.key === "e" || event.key === "c") {
    const input = $("correction"); input.value = (state.items[state.current].saved || read).text;
    input.focus(); input.select();
  } else if (event.key === "s" || event.key === "ArrowRight" || event.key === "j") { nextInQueue(1); }
  else if (event.key === "ArrowLeft" || event.key === "k") { nextInQueue(-1); }
  else return;
  event.preventDefault();
}

function wire() {
  document.addEventListener("keydown", onKey);
  $("files").addEventListener("change", (e) => { addFiles(e.target.files); e.target.value = ""; });
  const drop = $("drop");
  drop.addEventListener("click", () => $("files").click());
  ["dragenter", "dragover"].forEach((t) => document.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => document.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
  document.addEventListener("drop", (e) => addFiles(e.dataTransfer.files));
  let timer = null;
  $("correction").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(checkTyped, 150); });
  $("correct-form").addEventListener("submit", (e) => { e.preventDefault(); saveTyped(); });
  $("token").addEventListener("change", () => { state.token = $("token").value.trim(); refreshSavedCount(); });
}

wire();
start();
