// Cairn console: plain JavaScript, no build step, no library. Every piece
// of text from the server goes into the page through textContent.
"use strict";

const $ = (sel) => document.querySelector(sel);

// el builds an element: el("td", {class: "num"}, "text", child...).
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    // Through the CSSOM: the page's policy refuses style attributes.
    else if (k === "style") e.style.cssText = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function bytes(n) {
  if (n === undefined || n === null) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? (Number.isInteger(n) ? String(n) : n.toFixed(1)) : n.toFixed(n < 10 ? 2 : 1)) + " " + u[i];
}

function when(t) {
  if (!t || t.startsWith("0001-")) return "–";
  return new Date(t).toLocaleString();
}

function toast(msg) {
  const t = $("#toast");
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
}

class APIError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

// api calls the console's API; a 401 shows the login form.
async function api(method, path, body) {
  const opts = { method, headers: { "X-Cairn-Console": "1" }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  if (r.status === 401 && path !== "/api/login") {
    showLogin();
    throw new APIError(401, "Unauthorized", "log in first");
  }
  const text = await r.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
  if (!r.ok) throw new APIError(r.status, data && data.error, (data && data.message) || r.statusText);
  return data;
}

const q = (params) => new URLSearchParams(params).toString();

// ---- session ----

let session = null;
let view = "cluster";
let timer = null;

function showLogin() {
  session = null;
  clearInterval(timer);
  $("#app").hidden = true;
  $("#login").hidden = false;
}

async function start() {
  try {
    session = await api("GET", "/api/session");
  } catch (e) {
    showLogin();
    return;
  }
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#who").textContent = session.role === "admin" ? "admin" : "key " + session.access_key;
  $("#nav-keys").hidden = session.role !== "admin";
  show(view);
}

function loginMode() {
  return document.querySelector("input[name=login-mode]:checked").value;
}

for (const r of document.querySelectorAll("input[name=login-mode]")) {
  r.addEventListener("change", () => {
    $("#login-token-fields").hidden = loginMode() !== "token";
    $("#login-key-fields").hidden = loginMode() !== "key";
  });
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("#login-error").textContent = "";
  const body = loginMode() === "token"
    ? { token: $("#login-token").value }
    : { access_key: $("#login-access").value, secret_key: $("#login-secret").value };
  try {
    await api("POST", "/api/login", body);
    $("#login-token").value = "";
    $("#login-secret").value = "";
    start();
  } catch (e) {
    $("#login-error").textContent = e.message;
  }
});

$("#logout").addEventListener("click", async () => {
  try { await api("POST", "/api/logout"); } catch (e) { /* gone already */ }
  // The next login, maybe another's, starts afresh.
  view = "cluster";
  Object.assign(browse, { bucket: "", prefix: "", marker: "" });
  $("#shard-map").hidden = true;
  $("#key-new").hidden = true;
  showLogin();
});

// ---- views ----

const views = { cluster: refreshCluster, objects: refreshObjects, keys: refreshKeys, charts: refreshCharts };
const every = { cluster: 3000, charts: 15000 };

function show(name) {
  view = name;
  for (const b of document.querySelectorAll("button.nav")) b.classList.toggle("active", b.dataset.view === name);
  for (const s of document.querySelectorAll("section.view")) s.hidden = s.id !== "view-" + name;
  clearInterval(timer);
  views[name]();
  if (every[name]) timer = setInterval(() => { if (session) views[name](); }, every[name]);
}

for (const b of document.querySelectorAll("button.nav")) b.addEventListener("click", () => show(b.dataset.view));

// ---- cluster ----

function nodeState(n) {
  if (n.audit && n.audit.ejected) return "EJECTED";
  if (n.removed) return "REMOVED";
  if (n.down) return "DOWN";
  if (n.pending) return "PENDING";
  if (n.draining) return "DRAINING";
  return "UP";
}

function stat(k, v, extra, cls) {
  return el("div", { class: "stat" }, el("div", { class: "v " + (cls || "") }, v), el("div", { class: "k" }, k), extra || null);
}

async function refreshCluster() {
  let st;
  try {
    st = await api("GET", "/api/cluster");
  } catch (e) {
    if (e.status !== 401) $("#cluster-updated").textContent = "Could not read the status: " + e.message;
    return;
  }
  const leader = st.leader || (st.heal && st.heal.node) || "";
  const nodes = st.nodes || [];
  const up = nodes.filter((n) => !n.down).length;
  const tally = st.heal ? st.heal.tally : null;
  let health = "–";
  if (tally) {
    const missing = Object.values(tally.missing || {}).reduce((a, b) => a + b, 0);
    health = tally.unreadable > 0 ? tally.unreadable + " unreadable" : missing > 0 ? missing + " degraded" : "all healthy";
  }
  $("#cluster-summary").replaceChildren(
    stat("nodes up", up + " / " + nodes.length),
    stat("zones", (st.zones || []).length),
    stat("metadata leader", leader || "unknown", null, "id"),
    stat("stripes", st.k + "+" + st.m),
    stat("used / capacity", bytes(st.totals.used) + " / " + bytes(st.totals.capacity)),
    stat("stripe health", health, tally ? el("div", { class: "k" }, tally.stripes + (tally.stripes === 1 ? " stripe" : " stripes") + " at the latest pass") : null),
    stat("layout version", st.layout_version || "none"),
  );
  $("#cluster-summary").dataset.leader = leader;
  $("#cluster-warnings").replaceChildren(
    ...(st.layout_error ? [el("div", { class: "warning" }, "Layout: " + st.layout_error)] : []),
    ...(st.warnings || []).map((w) => el("div", { class: "warning" }, w)),
    ...(st.heal_error ? [el("div", { class: "warning" }, "Healing: " + st.heal_error)] : []),
  );
  $("#cluster-heal").replaceChildren(healView(st.heal));

  const zones = new Map();
  for (const z of st.zones || []) zones.set(z.name, z);
  for (const n of nodes) if (!zones.has(n.zone)) zones.set(n.zone, { name: n.zone });
  const cards = [];
  for (const [name, z] of [...zones].sort((a, b) => a[0].localeCompare(b[0]))) {
    const members = nodes.filter((n) => n.zone === name).sort((a, b) => a.id.localeCompare(b.id));
    const head = el("h2", {}, el("span", {}, "Zone " + (name || "(default)")),
      el("span", { class: "muted small" }, z.capacity ? bytes(z.used) + " of " + bytes(z.capacity) : ""));
    cards.push(el("div", { class: "card zone", dataset: { zone: name } }, head, members.map((n) => nodeCard(n, leader))));
  }
  $("#zones").replaceChildren(...cards);
  $("#cluster-updated").textContent = "Updated " + new Date().toLocaleTimeString() + " (every 3 s)";
}

function nodeCard(n, leader) {
  const state = nodeState(n);
  const u = n.usage;
  const pct = u && u.capacity > 0 ? Math.min(100, (100 * u.used) / u.capacity) : 0;
  const facts = [];
  if (u) facts.push(el("span", {}, bytes(u.used) + " used of " + bytes(u.capacity)), el("span", {}, u.shards + " shards"));
  else if (n.error) facts.push(el("span", {}, n.error));
  facts.push(el("span", {}, "weight " + n.weight));
  facts.push(el("span", {}, "gossip " + n.gossip));
  if (n.audit) {
    const a = n.audit;
    facts.push(el("span", { class: "reputation" }, "reputation " + (100 * a.reputation).toFixed(1) + "% (" + a.passed + " audits passed, " + a.failed + " failed)"));
  } else if ((n.roles || []).includes("storage")) {
    facts.push(el("span", { class: "reputation" }, "not audited yet"));
  }
  return el("div", { class: "node", dataset: { nodeId: n.id, zone: n.zone, state } },
    el("div", { class: "head" },
      el("span", {}, el("span", { class: "id" }, n.id), " ", n.id === leader ? el("span", { class: "leader" }, "LEADER") : null),
      el("span", { class: "badge state " + state }, state)),
    el("div", { class: "roles" }, (n.roles || []).join(" · "), n.s3_addr ? " · S3 " + n.s3_addr : ""),
    u ? el("div", { class: "bar", title: pct.toFixed(1) + "% used" }, el("div", { style: "width:" + pct.toFixed(2) + "%" })) : null,
    el("div", { class: "facts" }, facts));
}

function healView(h) {
  if (!h) return el("div", { class: "muted" }, "Healing status unknown.");
  const t = h.tally || {};
  const doing = h.scanning ? "scanning the chunk table" : h.healing ? "healing" : "idle";
  const missing = Object.entries(t.missing || {}).filter(([, v]) => v > 0)
    .map(([k, v]) => v + " missing " + k + (k === "1" ? " shard" : " shards")).join(", ") || "none";
  const rows = [
    ["state", (h.healthy ? "healthy" : "work to do") + ", " + doing + ", " + h.passes + " passes"],
    ["stripes", (t.stripes || 0) + " live, " + (t.healthy || 0) + " whole; degraded: " + missing + "; unreadable: " + (t.unreadable || 0)],
    ["remaining", bytes(h.remaining) + " (repair " + bytes(h.repair_remaining) + ", rebalance " + bytes(h.rebalance_remaining) + ")" +
      (h.eta_seconds > 0 ? ", about " + Math.ceil(h.eta_seconds) + " s at the current rate" : "")],
    ["rate", bytes(h.rate) + "/s of " + (h.rate_limit ? bytes(h.rate_limit) + "/s" : "no limit")],
    ["done since start", h.repaired_shards + " shards repaired (" + bytes(h.repaired_bytes) + "), " + h.moved_shards + " moved, " + h.failed_shards + " failed"],
    ["audits", h.audit.passed + " passed, " + h.audit.missing + " missing, " + h.audit.corrupt + " corrupt, " + h.audit.ejected + " nodes ejected"],
  ];
  return el("div", {},
    el("h2", {}, "Stripe health and healing ", el("span", { class: "muted small" }, "(healer on " + h.node + ")")),
    el("dl", { class: "meta-grid" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
}

// ---- buckets and objects ----

const browse = { bucket: "", prefix: "", marker: "" };

async function refreshObjects() {
  let buckets = [];
  try {
    buckets = await api("GET", "/api/buckets");
  } catch (e) {
    if (e.status !== 401) toast("Buckets: " + e.message);
    return;
  }
  if (!browse.bucket && buckets.length) browse.bucket = buckets[0].name;
  if (browse.bucket && !buckets.some((b) => b.name === browse.bucket)) { browse.bucket = buckets.length ? buckets[0].name : ""; browse.prefix = ""; }
  $("#bucket-list").replaceChildren(...buckets.map((b) =>
    el("li", {}, el("button", { class: b.name === browse.bucket ? "active" : "", dataset: { bucket: b.name },
      onclick: () => { browse.bucket = b.name; browse.prefix = ""; $("#shard-map").hidden = true; refreshObjects(); } }, b.name))));
  $("#upload-button").disabled = !browse.bucket || !$("#upload-file").files.length;
  $("#bucket-delete").hidden = !browse.bucket;
  await listObjects(false);
}

async function listObjects(more) {
  if (!more) browse.marker = "";
  const rows = $("#object-rows");
  renderCrumbs();
  if (!browse.bucket) {
    rows.replaceChildren();
    $("#objects-empty").textContent = "No bucket yet: create one.";
    return;
  }
  let res;
  try {
    res = await api("GET", "/api/objects?" + q({ bucket: browse.bucket, prefix: browse.prefix, marker: browse.marker }));
  } catch (e) {
    if (e.status !== 401) toast("List: " + e.message);
    return;
  }
  const out = [];
  for (const p of res.prefixes) {
    out.push(el("tr", { class: "prefix" },
      el("td", {}, el("span", { class: "icon folder" })),
      el("td", {}, el("button", { class: "link", onclick: () => { browse.prefix = p; listObjects(false); } }, p.slice(browse.prefix.length))),
      el("td"), el("td"), el("td")));
  }
  for (const o of res.objects) {
    const href = "/api/object?" + q({ bucket: browse.bucket, key: o.key });
    out.push(el("tr", { class: "object", dataset: { key: o.key } },
      el("td", {}, el("span", { class: "icon file" })),
      el("td", {}, el("span", { class: "name" }, o.key.slice(browse.prefix.length)), el("div", { class: "mono muted" }, o.cid)),
      el("td", { class: "num" }, bytes(o.size)),
      el("td", {}, when(o.modified)),
      el("td", { class: "actions" },
        el("a", { href, download: o.key.split("/").pop() || "object", class: "download" }, "Download"),
        el("button", { class: "shards", onclick: () => showShards(browse.bucket, o.key) }, "Shards"),
        el("button", { class: "danger delete", onclick: () => deleteObject(o.key) }, "Delete"))));
  }
  if (more) rows.append(...out); else rows.replaceChildren(...out);
  browse.marker = res.next_marker || "";
  $("#objects-more").hidden = !res.truncated;
  $("#objects-empty").textContent = rows.children.length ? "" : "Nothing under this prefix.";
}

function renderCrumbs() {
  const parts = [el("button", { onclick: () => { browse.prefix = ""; listObjects(false); } }, browse.bucket || "—")];
  let acc = "";
  for (const seg of browse.prefix.split("/").filter((s, i, a) => i < a.length - 1)) {
    acc += seg + "/";
    const p = acc;
    parts.push(" / ", el("button", { onclick: () => { browse.prefix = p; listObjects(false); } }, seg));
  }
  $("#crumbs").replaceChildren(...parts);
}

$("#objects-more").addEventListener("click", () => listObjects(true));
$("#upload-file").addEventListener("change", () => { $("#upload-button").disabled = !browse.bucket || !$("#upload-file").files.length; });

// The upload streams the file as the request body (XMLHttpRequest, for
// its progress events); the server streams it into the store.
$("#upload-button").addEventListener("click", () => {
  const f = $("#upload-file").files[0];
  if (!f || !browse.bucket) return;
  const key = browse.prefix + f.name;
  const x = new XMLHttpRequest();
  x.open("PUT", "/api/object?" + q({ bucket: browse.bucket, key }));
  x.setRequestHeader("X-Cairn-Console", "1");
  x.setRequestHeader("Content-Type", f.type || "application/octet-stream");
  const status = $("#upload-status");
  $("#upload-button").disabled = true;
  x.upload.onprogress = (e) => { if (e.lengthComputable) status.textContent = "uploading " + Math.floor((100 * e.loaded) / e.total) + "%"; };
  x.onload = () => {
    let msg = x.statusText;
    try { msg = JSON.parse(x.responseText).message || msg; } catch (e) { /* not JSON */ }
    if (x.status === 200) {
      const o = JSON.parse(x.responseText);
      status.textContent = "uploaded " + key + " (" + bytes(o.size) + ")";
      status.dataset.done = key;
      $("#upload-file").value = "";
      listObjects(false);
    } else {
      if (x.status === 401) showLogin();
      status.textContent = "upload failed: " + msg;
    }
  };
  x.onerror = () => { status.textContent = "upload failed: the connection broke"; $("#upload-button").disabled = false; };
  status.textContent = "uploading…";
  delete status.dataset.done;
  x.send(f);
});

$("#bucket-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const name = $("#bucket-name").value.trim();
  try {
    await api("POST", "/api/buckets?" + q({ bucket: name }));
    $("#bucket-name").value = "";
    browse.bucket = name;
    browse.prefix = "";
    refreshObjects();
  } catch (e) { toast("Create bucket: " + e.message); }
});

$("#bucket-delete").addEventListener("click", async () => {
  if (!confirm("Delete the bucket " + browse.bucket + "? It must be empty.")) return;
  try {
    await api("DELETE", "/api/buckets?" + q({ bucket: browse.bucket }));
    browse.bucket = "";
    refreshObjects();
  } catch (e) { toast("Delete bucket: " + e.message); }
});

async function deleteObject(key) {
  if (!confirm("Delete " + key + "?")) return;
  try {
    const res = await api("DELETE", "/api/objects?" + q({ bucket: browse.bucket }), [key]);
    if (res.failed && res.failed[key]) toast("Delete: " + res.failed[key]);
    listObjects(false);
  } catch (e) { toast("Delete: " + e.message); }
}

// Zone colours for the shard map.
const palette = ["#dbe8ff", "#dff3e4", "#fde8d7", "#efe0fb", "#fff3c4", "#d7f2f5", "#fbdde6", "#e6e9ee"];
function zoneColor(zones, z) {
  if (!zones.has(z)) zones.set(z, palette[zones.size % palette.length]);
  return zones.get(z);
}

const maxStripes = 200;

async function showShards(bucket, key) {
  const box = $("#shard-map");
  box.hidden = false;
  box.replaceChildren(el("p", { class: "muted" }, "Reading the shard map of " + key + "…"));
  let o;
  try {
    o = await api("GET", "/api/object/shards?" + q({ bucket, key }));
  } catch (e) {
    box.replaceChildren(el("p", { class: "error" }, "Shard map: " + e.message));
    return;
  }
  const zones = new Map();
  const stripes = o.chunks.slice(0, maxStripes).map((c) => {
    const label = el("div", { class: "label" }, "chunk " + c.index + " · " + bytes(c.size), el("br"),
      c.inline ? "inline in the manifest" : c.k + "+" + c.m + (c.seal ? " sealed" : ""),
      c.error ? el("div", { class: "error" }, c.error) : null);
    const shards = (c.shards || []).map((s) => el("div", {
      class: "shard " + s.role + (s.present === false ? " absent" : ""),
      style: "background:" + zoneColor(zones, s.zone || ""),
      title: s.cid, dataset: { node: s.node || "", zone: s.zone || "", index: s.index },
    }, el("div", { class: "n" }, s.node || "(no node)"), el("div", {}, s.zone || "–"),
      el("div", {}, s.role + " " + s.index + " " + (s.present === true ? "✓" : s.present === false ? "✗ missing" : "?"))));
    return el("div", { class: "stripe" }, label, shards);
  });
  const legend = [...zones].map(([z, c]) => el("span", { class: "shard", style: "background:" + c + ";width:auto" }, z || "(default)"));
  box.replaceChildren(
    el("div", { class: "toolbar" }, el("h2", {}, "Shard map of " + o.key), el("button", { onclick: () => { box.hidden = true; } }, "Close")),
    el("dl", { class: "meta-grid" },
      el("dt", {}, "bucket"), el("dd", {}, o.bucket),
      el("dt", {}, "size"), el("dd", {}, bytes(o.size) + " (" + o.size + " bytes)"),
      el("dt", {}, "CID"), el("dd", { class: "mono", id: "shard-map-cid" }, o.cid),
      el("dt", {}, "ETag"), el("dd", { class: "mono" }, o.etag),
      el("dt", {}, "modified"), el("dd", {}, when(o.modified)),
      el("dt", {}, "chunks"), el("dd", {}, o.chunks.length + (o.chunks.length > maxStripes ? " (the first " + maxStripes + " shown)" : ""))),
    el("div", { class: "stripe" }, el("div", { class: "label" }, "zones"), legend),
    el("div", { class: "stripes" }, stripes));
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}

// ---- access keys ----

async function refreshKeys() {
  let keys;
  try {
    keys = await api("GET", "/api/keys");
  } catch (e) {
    if (e.status !== 401) toast("Keys: " + e.message);
    return;
  }
  $("#key-rows").replaceChildren(...keys.map((k) => el("tr", { dataset: { key: k.id } },
    el("td", { class: "mono" }, k.id), el("td", {}, when(k.created)),
    el("td", { class: "actions" }, el("button", { class: "danger", onclick: () => deleteKey(k.id) }, "Delete")))));
}

$("#key-create").addEventListener("click", async () => {
  try {
    const k = await api("POST", "/api/keys");
    const box = $("#key-new");
    box.hidden = false;
    box.replaceChildren(el("strong", {}, "New key — copy the secret now, it is not shown again."), el("br"),
      "Access key: ", el("code", { id: "key-new-id" }, k.id), el("br"),
      "Secret key: ", el("code", { id: "key-new-secret" }, k.secret));
    refreshKeys();
  } catch (e) { toast("Create key: " + e.message); }
});

async function deleteKey(id) {
  if (!confirm("Delete the access key " + id + "? Clients using it stop working.")) return;
  try {
    await api("DELETE", "/api/keys/" + encodeURIComponent(id));
    $("#key-new").hidden = true;
    refreshKeys();
  } catch (e) { toast("Delete key: " + e.message); }
}

// ---- charts ----

const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

// chart draws series [{name, color, values}] over times as an SVG line chart.
function chart(title, times, series, fmt) {
  const W = 560, H = 180, L = 84, R = 10, T = 10, B = 24;
  const t0 = times.length ? times[0] : 0, t1 = times.length ? times[times.length - 1] : 1;
  let ymax = 0;
  for (const s of series) for (const v of s.values) if (v !== null && v > ymax) ymax = v;
  if (ymax <= 0) ymax = 1;
  const x = (t) => L + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (W - L - R) : (W - L - R) / 2);
  const y = (v) => T + (1 - v / ymax) * (H - T - B);
  const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  for (const f of [0, 0.5, 1]) {
    g.append(svg("line", { x1: L, x2: W - R, y1: y(f * ymax), y2: y(f * ymax), stroke: "#e2e5ea" }));
    g.append(svg("text", { x: L - 6, y: y(f * ymax) + 4, "text-anchor": "end", "font-size": 11, fill: "#6b7383" }, fmt(f * ymax)));
  }
  if (times.length) {
    for (const [t, anchor] of [[t0, "start"], [t1, "end"]]) {
      g.append(svg("text", { x: x(t), y: H - 6, "text-anchor": anchor, "font-size": 11, fill: "#6b7383" }, new Date(t).toLocaleTimeString()));
    }
  }
  for (const s of series) {
    // A gap (null) breaks the line.
    let d = "";
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      d += (pen ? "L" : "M") + x(times[i]).toFixed(1) + "," + y(v).toFixed(1);
      pen = true;
    });
    if (d) g.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, "stroke-linejoin": "round" }));
    if (s.values.filter((v) => v !== null).length === 1) {
      const i = s.values.findIndex((v) => v !== null);
      g.append(svg("circle", { cx: x(times[i]), cy: y(s.values[i]), r: 3, fill: s.color }));
    }
  }
  return el("div", { class: "card chart" }, el("h3", {}, title),
    el("div", { class: "legend" }, series.map((s) => el("span", {}, el("i", { style: "background:" + s.color }), s.name))), g);
}

async function refreshCharts() {
  let c;
  try {
    c = await api("GET", "/api/charts");
  } catch (e) {
    if (e.status !== 401) toast("Charts: " + e.message);
    return;
  }
  const s = c.samples;
  const times = s.map((p) => Date.parse(p.t));
  const tr = (f) => s.map((p) => (p.traffic ? f(p) : null));
  const hl = (f) => s.map((p) => (p.health ? f(p) : null));
  const num = (v) => (Number.isInteger(v) || v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const ms = (v) => num(v * 1000) + " ms";
  $("#charts-note").textContent = "A sample every " + c.interval_seconds + " s, kept for " + (c.window_seconds / 3600).toFixed(1) +
    " h, in this node's memory (" + s.length + " so far). Traffic is this gateway's S3 requests (not the console's own uploads and downloads).";
  $("#charts").replaceChildren(
    chart("S3 requests per second", times, [
      { name: "requests", color: "#2f6fde", values: tr((p) => p.requests) },
      { name: "5xx errors", color: "#d6333b", values: tr((p) => p.errors) }], num),
    chart("S3 throughput", times, [
      { name: "received", color: "#1f9d55", values: tr((p) => p.received) },
      { name: "sent", color: "#2f6fde", values: tr((p) => p.sent) }], (v) => bytes(v) + "/s"),
    chart("S3 latency", times, [
      { name: "mean", color: "#2f6fde", values: tr((p) => (p.latency_mean === undefined ? null : p.latency_mean)) },
      { name: "99th percentile", color: "#d98a00", values: tr((p) => (p.latency_p99 === undefined ? null : p.latency_p99)) }], ms),
    chart("Storage nodes", times, [
      { name: "in the layout", color: "#8a94a6", values: hl((p) => p.nodes) },
      { name: "up", color: "#1f9d55", values: hl((p) => p.nodes_up) }], num),
    chart("Stripes needing repair", times, [
      { name: "degraded", color: "#d98a00", values: hl((p) => p.degraded) },
      { name: "unreadable", color: "#d6333b", values: hl((p) => p.unreadable) }], num),
    chart("Healing", times, [
      { name: "repair rate", color: "#2f6fde", values: hl((p) => p.heal_rate) }], (v) => bytes(v) + "/s"),
  );
}

start();
