"""The page, style and script of the HTML report, inline (no file, network or CDN needed)."""

from appsplus.execution.compare import ABS_TOL, REL_TOL

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="appsplus-bench">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; script-src 'unsafe-inline' file: 'self'; img-src data:">
<title>{{TITLE}}</title>
<style>{{STYLE}}</style>
</head>
<body>
<header><h1>{{TITLE}}</h1><p class="sub">{{SUBTITLE}}</p></header>
<main id="summary">
<section><h2>pass@k by difficulty</h2>{{CHART}}{{METRICS}}</section>
<section><h2>samples by outcome (first failing test)</h2>{{OUTCOMES}}</section>
<section><h2>problems</h2>
<div class="filters">
<label>difficulty <select id="f-difficulty"><option value="">all</option></select></label>
<label>verdict <select id="f-verdict"><option value="">any</option>\
<option value="unsolved">unsolved (no sample passed)</option>\
<option value="solved">solved (a sample passed)</option></select></label>
<label>id <input id="f-text" type="search" placeholder="problem id contains"></label>
<span id="count"></span>
</div>
<table id="problems"><thead><tr>
<th data-sort="0">problem</th><th data-sort="1">difficulty</th><th data-sort="2">n</th>
<th data-sort="3">passed</th><th data-sort="6">pass rate</th><th>outcomes</th>
</tr></thead><tbody></tbody></table>
<div class="pager"><button id="prev">&larr; previous</button><span id="page"></span>\
<button id="next">next &rarr;</button></div>
</section>
</main>
<main id="problem" hidden></main>
<script id="data" type="application/json">{{DATA}}</script>
<script>{{SCRIPT}}</script>
</body>
</html>
"""

COMPARE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="appsplus-bench">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{TITLE}}</title>
<style>{{STYLE}}</style>
</head>
<body>
<header><h1>{{TITLE}}</h1><p class="sub">{{SUBTITLE}}</p></header>
<main>{{BODY}}</main>
</body>
</html>
"""

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#23395d;color:#fff;padding:12px 24px}header h1{margin:0;font-size:20px}
.sub{margin:2px 0 0;opacity:.8}main{padding:8px 24px 40px}section{margin-bottom:28px}
h2{font-size:16px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;background:#fff}th,td{padding:3px 9px;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f0f0f3;position:sticky;top:0}
th[data-sort]{cursor:pointer}th[data-sort]:hover{background:#e2e6ef}
.note{color:#666;font-size:12px}small{color:#777}
#chart .grid{stroke:#e3e3e3}#chart .tick{font-size:11px;fill:#555}#chart .label{font-size:12px;fill:#222}
#chart .ci{stroke:#222;stroke-width:1.5}\n#paired-chart .zero{stroke:#999;stroke-dasharray:3 3}#paired-chart .tick,#paired-chart .label{font-size:12px;fill:#333}
.stackcell{width:220px}.stack{display:flex;height:12px;width:200px;background:#eee}.stack span{display:block;height:100%}
.filters{display:flex;gap:16px;align-items:center;margin-bottom:8px}#count{color:#555}
#problems tbody tr{cursor:pointer}#problems tbody tr:hover{background:#eef3fb}
.badge{display:inline-block;border-radius:3px;color:#fff;padding:0 5px;margin-left:3px;font-size:11px}
.pager{margin-top:6px;display:flex;gap:10px;align-items:center}
pre{background:#fff;border:1px solid #ddd;padding:8px;overflow:auto;max-height:420px;margin:4px 0;white-space:pre-wrap;word-break:break-word}
code.py .kw{color:#a626a4;font-weight:600}code.py .st{color:#50a14f}code.py .cm{color:#8a8a8a;font-style:italic}
code.py .nu{color:#986801}code.py .bi{color:#4078f2}
details.sample{background:#fff;border:1px solid #ddd;margin:8px 0;padding:4px 10px}
details.sample summary{cursor:pointer;font-weight:600}
.v-passed{color:#3a923a}.v-fail{color:#c03d3e}.strip{font-family:monospace;letter-spacing:1px}
table.diff{width:100%;table-layout:fixed;font-family:monospace;font-size:12px}
table.diff td{text-align:left;white-space:pre-wrap;word-break:break-all;vertical-align:top;border:1px solid #eee}
table.diff .ln{width:36px;color:#999;text-align:right}table.diff tr.bad td.x{background:#fdecea}
table.diff tr.bad td.e{background:#e9f7ec}a{color:#2457a6}
table.diff tr.near td.e,table.diff tr.near td.x{background:#fff7df}
"""

# Shared by every page that draws code (bench report --html, appsplus quality --html): the
# `$` and `el` DOM helpers, Python syntax colouring (`highlight`) and the side-by-side line
# diff (`diffTable`, column labels expected/actual unless given).
HELPERS = r"""
"use strict";
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const kid of kids) if (kid !== null && kid !== undefined)
    e.append(kid instanceof Node ? kid : String(kid));
  return e;
}
const KEYWORDS = new Set(("False None True and as assert async await break class continue def del elif " +
  "else except finally for from global if import in is lambda nonlocal not or pass raise return try " +
  "while with yield").split(" "));
const BUILTINS = new Set("print input int str float list dict set tuple range len map sorted sum min max open enumerate zip abs".split(" "));
const TOKEN = /(#[^\n]*)|(\x22\x22\x22[\s\S]*?\x22\x22\x22|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|\b(\d+(?:\.\d+)?)\b|([A-Za-z_]\w*)/g;
function highlight(code) {
  const c = el("code", {class: "py"});
  let last = 0, m;
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(code)) !== null) {
    let cls = null;
    if (m[1]) cls = "cm"; else if (m[2]) cls = "st"; else if (m[3]) cls = "nu";
    else if (KEYWORDS.has(m[4])) cls = "kw"; else if (BUILTINS.has(m[4])) cls = "bi";
    if (!cls) continue;
    c.append(code.slice(last, m.index), el("span", {class: cls}, m[0]));
    last = m.index + m[0].length;
  }
  c.append(code.slice(last));
  return el("pre", null, c);
}
// The comparator's line rule for stdout (appsplus/execution/compare.py, the APPS rules): equal
// lines, or as many tokens, each equal, integers of equal value, or numbers within its
// float tolerance (rel {{REL_TOL}}, abs {{ABS_TOL}}). A diff given it as `accept` marks such
// lines "near" (accepted: not a difference) instead of "bad".
const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$/i;
function numberOf(t) {
  const s = t.toLowerCase(), sign = s.startsWith("-") ? -1 : 1, body = s.replace(/^[+-]/, "");
  if (body === "inf" || body === "infinity") return sign * Infinity;
  return body === "nan" ? NaN : Number(s);
}
function tokensAccepted(a, b) {
  if (a === b) return true;
  if (INT_RE.test(a) && INT_RE.test(b)) return BigInt(a) === BigInt(b);
  if (!NUM_RE.test(a) || !NUM_RE.test(b)) return false;
  const x = numberOf(a), y = numberOf(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
  if (x === y) return true;
  return Math.abs(x - y) <= Math.max({{REL_TOL}} * Math.max(Math.abs(x), Math.abs(y)), {{ABS_TOL}});
}
function linesAccepted(a, b) {
  if (a.trimEnd() === b.trimEnd()) return true;
  const ta = a.split(/\s+/).filter(Boolean), tb = b.split(/\s+/).filter(Boolean);
  return ta.length === tb.length && ta.every((t, i) => tokensAccepted(t, tb[i]));
}
function diffTable(expected, actual, labels = ["expected", "actual"], accept = null) {
  const e = expected.split("\n"), a = actual.split("\n");
  const t = el("table", {class: "diff"},
    el("thead", null, el("tr", null, el("th", {class: "ln"}, ""), el("th", null, labels[0]),
      el("th", {class: "ln"}, ""), el("th", null, labels[1]))));
  const body = el("tbody");
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    const x = i < e.length ? e[i] : null, y = i < a.length ? a[i] : null;
    const differs = x === null || y === null || x.trimEnd() !== y.trimEnd();
    const near = differs && x !== null && y !== null && accept !== null && accept(x, y);
    const cls = !differs ? "same" : near ? "near" : "bad";
    const title = near ? {title: "equal within the comparator's tolerance: accepted"} : {};
    body.append(el("tr", {class: cls, ...title},
      el("td", {class: "ln"}, x === null ? "" : i + 1), el("td", {class: "e"}, x === null ? "" : x),
      el("td", {class: "ln"}, y === null ? "" : i + 1), el("td", {class: "x"}, y === null ? "" : y)));
  }
  t.append(body);
  return t;
}
"""

HELPERS = HELPERS.replace("{{REL_TOL}}", repr(REL_TOL)).replace("{{ABS_TOL}}", repr(ABS_TOL))

_REPORT_SCRIPT = r"""
const DATA = JSON.parse(document.getElementById("data").textContent);
const PAGE_ROWS = 100;
const state = {sort: 0, desc: false, page: 0, rows: []};
const FAILS = DATA.outcomes.filter((v) => v !== "passed");
for (const v of FAILS) $("f-verdict").append(el("option", {value: v}, "has " + v.replace(/_/g, " ")));
for (const d of [...new Set(DATA.problems.map((p) => p[1]).filter(Boolean))])
  $("f-difficulty").append(el("option", {value: d}, d));
for (const p of DATA.problems) p[6] = p[2] ? p[3] / p[2] : 0;

function filtered() {
  const d = $("f-difficulty").value, v = $("f-verdict").value, t = $("f-text").value.trim();
  return DATA.problems.filter((p) =>
    (!d || p[1] === d) && (!t || p[0].includes(t)) &&
    (!v || (v === "unsolved" ? p[3] === 0 : v === "solved" ? p[3] > 0 : (p[4][v] || 0) > 0)));
}
function badges(verdicts) {
  const span = el("span");
  for (const v of DATA.outcomes) if (verdicts[v]) {
    const b = el("span", {class: "badge", title: v.replace(/_/g, " ")}, DATA.short[v] + " " + verdicts[v]);
    b.style.background = DATA.colours[v];
    span.append(b);
  }
  return span;
}
function renderTable() {
  const rows = filtered();
  const i = state.sort, sign = state.desc ? -1 : 1;
  rows.sort((a, b) => (a[i] < b[i] ? -sign : a[i] > b[i] ? sign : 0));
  state.rows = rows;
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
  state.page = Math.min(state.page, pages - 1);
  const body = document.querySelector("#problems tbody");
  const out = document.createDocumentFragment();
  for (const p of rows.slice(state.page * PAGE_ROWS, (state.page + 1) * PAGE_ROWS)) {
    const tr = el("tr", {"data-id": p[0], "data-difficulty": p[1]},
      el("td", null, el("a", {href: "#problem=" + encodeURIComponent(p[0])}, p[0])),
      el("td", null, p[1]), el("td", null, p[2]), el("td", null, p[3]),
      el("td", null, (100 * p[6]).toFixed(0) + "%"), el("td", null, badges(p[4])));
    tr.addEventListener("click", () => { location.hash = "#problem=" + encodeURIComponent(p[0]); });
    out.append(tr);
  }
  body.replaceChildren(out);
  $("count").textContent = rows.length + " of " + DATA.problems.length + " problems";
  $("page").textContent = "page " + (state.page + 1) + " of " + pages;
}
for (const th of document.querySelectorAll("th[data-sort]")) th.addEventListener("click", () => {
  const i = Number(th.dataset.sort);
  state.desc = state.sort === i ? !state.desc : false; state.sort = i; renderTable();
});
const FILTERS = {difficulty: "f-difficulty", verdict: "f-verdict", q: "f-text"};
function filterHash() {  // the filters as a shareable link: #difficulty=..&verdict=..&q=..
  const parts = Object.entries(FILTERS).filter(([, id]) => $(id).value)
    .map(([k, id]) => k + "=" + encodeURIComponent($(id).value));
  history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname);
}
for (const id of Object.values(FILTERS))
  $(id).addEventListener("input", () => { state.page = 0; filterHash(); renderTable(); });
$("prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); renderTable(); });
$("next").addEventListener("click", () => { state.page += 1; renderTable(); });

const MARKS = {passed: "✓", wrong_answer: "W", runtime_error: "R", timeout: "T",
  memory_exceeded: "M", output_limit_exceeded: "O", compile_error: "C", skipped: "·"};
function sampleView(s) {
  const ok = s.verdict === "passed";
  const d = el("details", {class: "sample", "data-index": s.index, "data-verdict": s.verdict},
    el("summary", null, "sample " + s.index + ": ",
      el("span", {class: ok ? "v-passed" : "v-fail"}, s.verdict.replace(/_/g, " ")),
      " (" + s.n_passed + "/" + s.n_tests + " tests) ",
      el("span", {class: "strip", title: "one mark per test"},
        (s.tests || []).map((v) => MARKS[v] || "?").join(""))));
  if (s.failure) {
    const f = s.failure;
    d.append(el("div", {class: "failure"},
      el("h4", null, "first failure: test " + f.test_index + " (" + f.verdict.replace(/_/g, " ") + ")"),
      el("div", null, "input"), el("pre", {class: "input"}, f.input),
      diffTable(f.expected, f.actual, undefined, DATA.near ? linesAccepted : null),
      f.error ? el("pre", {class: "error"}, f.error) : null));
  } else if (s.error) {
    d.append(el("pre", {class: "error"}, s.error));
  }
  d.append(el("div", null, "program"), highlight(s.program));
  return d;
}
window.APPSPLUS = {
  loaded(p) {
    const view = $("problem");
    if (view.dataset.want !== p.id) return;
    view.replaceChildren(
      el("p", null, el("a", {href: "#"}, "← all problems")),
      el("h2", null, p.id),
      el("details", {open: ""}, el("summary", null, "statement"), el("pre", {class: "statement"}, p.statement)),
      el("h3", null, p.samples.length + " samples"));
    const failed = p.samples.filter((s) => s.verdict !== "passed");
    p.samples.forEach((s) => {
      const v = sampleView(s);
      if (s === failed[0]) v.open = true;
      view.append(v);
    });
  },
};
function route() {
  const m = /^#problem=(.+)$/.exec(location.hash);
  const view = $("problem"), summary = $("summary");
  if (!m) {
    const params = new URLSearchParams(location.hash.slice(1));
    for (const [k, id] of Object.entries(FILTERS)) if (params.has(k)) $(id).value = params.get(k);
    view.hidden = true; summary.hidden = false; renderTable(); return;
  }
  const id = decodeURIComponent(m[1]);
  const row = DATA.problems.find((p) => p[0] === id);
  summary.hidden = true; view.hidden = false;
  if (!row) { view.replaceChildren(el("p", null, "no problem " + id)); return; }
  view.dataset.want = id;
  view.replaceChildren(el("p", null, "loading " + id + " ..."));
  const s = document.createElement("script");
  s.src = DATA.files + "/" + row[5];
  s.onload = () => s.remove();
  document.head.append(s);
}
window.addEventListener("hashchange", route);
route();
"""

SCRIPT = HELPERS + _REPORT_SCRIPT  # the page of `bench report --html`
