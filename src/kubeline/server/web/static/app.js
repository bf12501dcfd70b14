// The kubeline web page: runs, a run's step graph, a step's logs, metrics and outputs,
// published pipelines and schedules. Plain JavaScript, no build step, no other hosts.
//
// Every value from the server is put into the page with textContent or setAttribute
// (never innerHTML), so names, tags, logs and metrics that contain markup stay text.
"use strict";

const POLL_MS = 1000;
const SVG_NS = "http://www.w3.org/2000/svg";
const STATUS_CLASS = {
  NotStarted: "notstarted", Running: "running", Finished: "finished",
  Failed: "failed", Canceled: "canceled",
};

// ---------------------------------------------------------------- DOM helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "onclick" || key === "onsubmit" || key === "oninput") {
      node.addEventListener(key.slice(2), value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

function statusBadge(status) {
  return el("span", {class: "badge " + (STATUS_CLASS[status] || "other"),
                     "data-status": status}, status);
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.round(seconds);
  if (s < 60) return (seconds < 10 ? seconds.toFixed(1) : String(s)) + "s";
  const m = Math.floor(s / 60), rest = String(s % 60).padStart(2, "0");
  if (m < 60) return m + "m " + rest + "s";
  return Math.floor(m / 60) + "h " + String(m % 60).padStart(2, "0") + "m";
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

function fmtSize(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = bytes, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i ? v.toFixed(1) : v) + " " + units[i];
}

function chips(obj, cls) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return el("span", {class: "muted"}, "—");
  return el("span", {class: "chips"}, entries.map(([k, v]) =>
    el("span", {class: "chip " + (cls || ""), title: k + " = " + String(v)},
       el("b", {}, k), " ", String(v))));
}

function link(href, ...children) { return el("a", {href}, ...children); }

function runHref(id) { return "#/run/" + encodeURIComponent(id); }

function stepHref(runId, stepId, tab) {
  return runHref(runId) + "/step/" + encodeURIComponent(stepId) + (tab ? "/" + tab : "");
}

async function getJSON(url, options) {
  const response = await fetch(url, Object.assign({headers: {Accept: "application/json"}},
                                                  options || {}));
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    let message = body && (body.error || body.detail || body.message);
    if (message && typeof message === "object" && !Array.isArray(message)) {
      message = message.message || message.Message;
    }
    throw new Error(typeof message === "string" ? message
                    : "HTTP " + response.status + " " + response.statusText);
  }
  return body;
}

function errorBox(error) {
  return el("p", {class: "error", role: "alert"}, String(error.message || error));
}

// ---------------------------------------------------------------- polling and routing

let timers = [];
let viewToken = 0;

function every(ms, fn) {
  const token = viewToken;
  let stopped = false;
  const tick = async () => {
    if (stopped || token !== viewToken) return;
    let again = true;
    try { again = (await fn()) !== false; } catch (e) { again = true; }
    if (again && !stopped && token === viewToken) timers.push(setTimeout(tick, ms));
  };
  tick();
  return () => { stopped = true; };
}

function setLive(on) {
  const live = document.getElementById("live");
  live.textContent = on ? "live" : "";
  live.className = on ? "live on" : "live";
}

function route() {
  viewToken++;
  timers.forEach(clearTimeout);
  timers = [];
  setLive(false);
  const parts = (location.hash || "#/runs").slice(2).split("/").map(decodeURIComponent);
  const view = document.getElementById("view");
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", a.dataset.nav === (["run", "experiment"].includes(parts[0])
                                                      ? "runs" : parts[0] || "runs"));
  }
  if (parts[0] === "runs" && parts[1]) parts[0] = "run";  // #/runs/<id>: the REST RunUrl
  if (parts[0] === "run" && parts[1]) {
    runView(view, parts[1], parts[2] === "step" ? parts[3] : null, parts[4] || "stdout");
  } else if (parts[0] === "published") {
    publishedView(view);
  } else if (parts[0] === "schedules") {
    schedulesView(view);
  } else {
    runsView(view, parts[0] === "experiment" ? parts[1] : null);
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);

// ---------------------------------------------------------------- runs

function runsView(view, experiment) {
  const list = el("div", {class: "experiments"});
  const table = el("div", {class: "runs-table"});
  replace(view,
    el("h1", {}, experiment ? ["Runs of ", el("span", {class: "name"}, experiment)] : "Runs"),
    el("div", {class: "split"}, el("aside", {}, el("h2", {}, "Experiments"), list), table));
  const url = "/ui/api/runs" + (experiment ? "?experiment=" + encodeURIComponent(experiment) : "");
  every(2 * POLL_MS, async () => {
    let data;
    try { data = await getJSON(url); } catch (e) { replace(table, errorBox(e)); return; }
    replace(list, el("ul", {},
      el("li", {}, link("#/runs", experiment ? "all" : el("b", {}, "all"))),
      data.experiments.map((name) => el("li", {},
        link("#/experiment/" + encodeURIComponent(name),
             name === experiment ? el("b", {}, name) : name)))));
    if (!data.runs.length) {
      replace(table, el("p", {class: "muted"},
        "No runs yet. Start one with Experiment(ws, name).submit(pipeline), ",
        el("code", {}, "kubeline run pipeline.py"), " or a published pipeline's endpoint."));
      setLive(false);
      return;
    }
    replace(table, el("table", {class: "grid", "data-test": "runs"},
      el("thead", {}, el("tr", {}, ["Status", "Run", "Experiment", "Pipeline", "Started by",
                                    "Created", "Duration", "Parameters", "Tags"]
        .map((h) => el("th", {}, h)))),
      el("tbody", {}, data.runs.map((r) => el("tr", {"data-run": r.id},
        el("td", {}, statusBadge(r.status)),
        el("td", {class: "mono"}, link(runHref(r.id), r.id.slice(0, 8))),
        el("td", {}, r.experiment),
        el("td", {}, r.pipeline),
        el("td", {}, r.started_by),
        el("td", {class: "nowrap"}, fmtTime(r.created_at)),
        el("td", {class: "num"}, fmtDuration(r.duration)),
        el("td", {}, chips(r.parameters, "param")),
        el("td", {}, chips(r.tags, "tag")))))));
    setLive(data.runs.some((r) => !r.terminal));
  });
}

// ---------------------------------------------------------------- one run

function runView(view, runId, stepId, tab) {
  const head = el("div", {class: "run-head"});
  const info = el("div", {class: "info"});
  const graph = el("div", {class: "graph", "data-test": "graph"});
  const steps = el("div", {class: "steps"});
  const panel = el("section", {class: "step-panel", "data-test": "step-panel"});
  const rerunBox = el("div", {class: "rerun"});
  replace(view, el("p", {class: "crumbs"}, link("#/runs", "Runs"), " / ",
                   el("span", {class: "mono"}, runId)),
          head, info, rerunBox, el("h2", {}, "Graph"), graph, el("h2", {}, "Steps"), steps,
          panel);
  let first = true;
  let stepState = null;
  every(POLL_MS, async () => {
    let run;
    try { run = await getJSON("/ui/api/runs/" + encodeURIComponent(runId)); }
    catch (e) { replace(head, errorBox(e)); return !first; }
    replace(head, el("h1", {}, "Run ", el("span", {class: "mono"}, run.id), " ",
                     statusBadge(run.status)),
            run.message ? el("p", {class: "message"}, run.message) : null);
    replace(info, infoGrid(run));
    replace(graph, drawGraph(run, stepId));
    replace(steps, stepsTable(run, stepId));
    if (first) {
      replace(rerunBox, rerunForm(run));
      first = false;
    }
    const step = stepId ? run.steps.find((s) => s.id === stepId) : null;
    const key = step ? step.status + "|" + step.finished_at : null;
    if (stepId && key !== stepState) {
      stepState = key;
      stepPanel(panel, run, step, stepId, tab);
    }
    setLive(!run.terminal);
    return !run.terminal || (step && !["Finished", "Failed", "Canceled"].includes(step.status));
  });
}

function infoGrid(run) {
  const rows = [
    ["Experiment", link("#/experiment/" + encodeURIComponent(run.experiment), run.experiment)],
    ["Pipeline", run.pipeline],
    ["Started by", startedBy(run.started_by)],
    ["Created", fmtTime(run.created_at)],
    ["Duration", el("span", {"data-test": "duration"}, fmtDuration(run.duration))],
    ["Parameters", chips(run.parameters, "param")],
    ["Tags", chips(run.tags, "tag")],
  ];
  if (run.git) rows.push(["Git", (run.git.branch || "") + " " + (run.git.commit || "").slice(0, 12)
                                  + (run.git.dirty ? " (dirty)" : "")]);
  if (Object.keys(run.metrics || {}).length) rows.push(["Run metrics", metricsScalars(run.metrics)]);
  return el("dl", {class: "kv"}, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

// Who or what started a run; REST and schedule starts link to what started them.
function startedBy(text) {
  const target = text.startsWith("rest:") ? "#/published"
    : text.startsWith("schedule:") ? "#/schedules"
    : text.startsWith("web page: rerun of ") ? runHref(text.slice("web page: rerun of ".length))
    : null;
  return target ? el("a", {href: target, "data-test": "started-by"}, text)
                : el("span", {"data-test": "started-by"}, text);
}

function stepsTable(run, selected) {
  return el("table", {class: "grid", "data-test": "steps"},
    el("thead", {}, el("tr", {}, ["Status", "Step", "Duration", "Attempts", "Exit", "Reused",
                                  "Message"].map((h) => el("th", {}, h)))),
    el("tbody", {}, run.steps.map((s) => el("tr", {"data-step": s.id,
                                                  class: s.id === selected ? "selected" : null},
      el("td", {}, statusBadge(s.status)),
      el("td", {}, link(stepHref(run.id, s.id), s.name)),
      el("td", {class: "num"}, fmtDuration(s.duration)),
      el("td", {class: "num"}, s.attempts),
      el("td", {class: "num"}, s.exit_code === null ? "" : s.exit_code),
      el("td", {}, s.reused ? reusedNote(s) : ""),
      el("td", {class: "message"}, s.message)))));
}

function reusedNote(step) {
  if (!step.reused_from) return "reused";
  return el("span", {}, "reused from ",
    link(stepHref(step.reused_from.run_id, step.reused_from.step_id),
         step.reused_from.run_id.slice(0, 8)));
}

let measure = null;

// The longest prefix of text (with "…") that fits maxWidth pixels in the given font.
function fitText(text, font, maxWidth) {
  measure = measure || document.createElement("canvas").getContext("2d");
  if (!measure) return text.length > 22 ? text.slice(0, 21) + "…" : text;
  measure.font = font;
  if (measure.measureText(text).width <= maxWidth) return text;
  let lo = 0, hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure.measureText(text.slice(0, mid) + "…").width <= maxWidth) lo = mid; else hi = mid - 1;
  }
  return text.slice(0, lo) + "…";
}

// The step graph: columns by longest path from a root, nodes coloured by status.
function drawGraph(run, selected) {
  const W = 190, H = 46, GX = 70, GY = 22, PAD = 12;
  const ids = run.steps.map((s) => s.id);
  const parents = new Map(ids.map((id) => [id, []]));
  for (const [a, b] of run.edges) parents.get(b).push(a);
  const depth = new Map();
  const depthOf = (id, seen) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(-1, ...parents.get(id).map((p) => depthOf(p, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  ids.forEach((id) => depthOf(id, new Set()));
  const columns = [];
  for (const id of ids) (columns[depth.get(id)] = columns[depth.get(id)] || []).push(id);
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((id, y) =>
    pos.set(id, {x: PAD + x * (W + GX), y: PAD + y * (H + GY)})));
  const width = PAD * 2 + columns.length * W + Math.max(0, columns.length - 1) * GX;
  const height = PAD * 2 + Math.max(1, ...columns.map((c) => c.length)) * (H + GY) - GY;
  const root = svg("svg", {width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
                           "aria-label": "step graph"},
    svg("defs", {}, svg("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5,
                                   markerWidth: 7, markerHeight: 7, orient: "auto"},
                        svg("path", {d: "M0,0 L10,5 L0,10 z", class: "arrowhead"}))));
  for (const [a, b] of run.edges) {
    const p = pos.get(a), q = pos.get(b);
    const x1 = p.x + W, y1 = p.y + H / 2, x2 = q.x - 2, y2 = q.y + H / 2, mx = (x1 + x2) / 2;
    root.appendChild(svg("path", {class: "edge", d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
                                  "marker-end": "url(#arrow)"}));
  }
  run.steps.forEach((s, index) => {
    const p = pos.get(s.id);
    const clip = "clip-" + index;
    root.firstChild.appendChild(svg("clipPath", {id: clip},
      svg("rect", {x: p.x + 4, y: p.y, width: W - (s.reused ? 30 : 12), height: H})));
    const cls = "node " + (STATUS_CLASS[s.status] || "other") + (s.reused ? " reused" : "")
                + (s.id === selected ? " selected" : "");
    const label = fitText(s.name, "600 13px " + (getComputedStyle(document.body).fontFamily || "sans-serif"), W - (s.reused ? 44 : 24));
    const sub = s.status + (s.reused ? " · reused" : "")
                + (s.duration !== null ? " · " + fmtDuration(s.duration) : "");
    const group = svg("a", {href: stepHref(run.id, s.id), class: cls, "data-step": s.id,
                            "data-status": s.status, "data-reused": s.reused ? "true" : "false"},
      svg("title", {}, s.name + " — " + s.status + (s.reused ? " (reused)" : "")),
      svg("rect", {x: p.x, y: p.y, width: W, height: H, rx: 8}),
      svg("text", {x: p.x + 12, y: p.y + 19, class: "label", "clip-path": `url(#${clip})`}, label),
      svg("text", {x: p.x + 12, y: p.y + 36, class: "sub", "clip-path": `url(#${clip})`}, sub),
      s.reused ? svg("text", {x: p.x + W - 10, y: p.y + 19, class: "reuse-mark",
                              "text-anchor": "end"}, "↺") : null);
    root.appendChild(group);
  });
  return el("div", {class: "graph-scroll"}, root,
    el("p", {class: "legend"}, Object.keys(STATUS_CLASS).map((k) =>
      el("span", {class: "legend-item"}, statusBadge(k))),
      el("span", {class: "legend-item"}, el("span", {class: "badge reused-badge"}, "↺ reused"))));
}

function rerunForm(run) {
  if (!run.can_rerun) return null;
  const inputs = Object.entries(run.parameters || {}).map(([name, value]) =>
    el("label", {class: "param"}, el("span", {}, name),
       el("input", {type: "text", name, value: String(value), "data-param": name})));
  const regenerate = el("input", {type: "checkbox", name: "regenerate"});
  const result = el("span", {class: "result", "data-test": "rerun-result"});
  const button = el("button", {type: "submit", "data-test": "rerun"}, "Rerun");
  const form = el("form", {class: "rerun-form", onsubmit: async (event) => {
    event.preventDefault();
    const assignments = {};
    for (const input of form.querySelectorAll("input[data-param]")) {
      assignments[input.dataset.param] = input.value;
    }
    button.disabled = true;
    replace(result, "starting…");
    try {
      const body = {ParameterAssignments: assignments, RegenerateOutputs: regenerate.checked};
      const answer = await getJSON("/ui/api/runs/" + encodeURIComponent(run.id) + "/rerun",
        {method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
         body: JSON.stringify(body)});
      replace(result, "started ", link(runHref(answer.Id), answer.Id));
      location.hash = runHref(answer.Id);
    } catch (e) {
      replace(result, errorBox(e));
    } finally {
      button.disabled = false;
    }
  }},
    el("details", {}, el("summary", {}, "Run this pipeline again"),
      el("p", {class: "muted"}, "Runs the same compiled pipeline and snapshots with these values."),
      el("div", {class: "params"}, inputs),
      el("label", {class: "check"}, regenerate, " regenerate outputs (no reuse)"),
      el("div", {}, button, " ", result)));
  return form;
}

// ---------------------------------------------------------------- one step

function stepPanel(panel, run, step, stepId, tab) {
  if (!step) { replace(panel, errorBox(new Error("step " + stepId + " is not in this run"))); return; }
  const tabs = [["stdout", "stdout"], ["stderr", "stderr"], ["metrics", "Metrics"],
                ["outputs", "Outputs"]];
  const body = el("div", {class: "tab-body", "data-test": "tab-" + tab});
  replace(panel,
    el("h2", {}, "Step ", el("span", {class: "name", "data-test": "step-name"}, step.name), " ",
       statusBadge(step.status)),
    step.reused ? el("p", {class: "note"}, "This step was not run: its result was ",
                     reusedNote(step), ".") : null,
    step.message ? el("p", {class: "message"}, step.message) : null,
    el("dl", {class: "kv small"},
      el("dt", {}, "Key"), el("dd", {class: "mono"}, step.key || "—"),
      el("dt", {}, "Tags"), el("dd", {}, chips(step.tags, "tag")),
      el("dt", {}, "Duration"), el("dd", {}, fmtDuration(step.duration))),
    el("div", {class: "tabs", role: "tablist"}, tabs.map(([key, label]) =>
      el("a", {href: stepHref(run.id, step.id, key), role: "tab", "data-tab": key,
               class: key === tab ? "active" : null}, label))),
    body);
  if (tab === "metrics") {
    replace(body, metricsView(step.metrics));
    imagesView(body, run, step);
  } else if (tab === "outputs") {
    outputsView(body, run, step);
  } else {
    logView(body, run, step, tab === "stderr" ? "stderr" : "stdout");
  }
}

async function logView(body, run, step, stream) {
  const url = "/ui/api/runs/" + encodeURIComponent(run.id) + "/steps/" +
              encodeURIComponent(step.id) + "/logs/" + stream;
  const pre = el("pre", {class: "log", "data-test": "log-" + stream});
  replace(body, pre);
  const token = viewToken;
  const load = async () => {
    if (token !== viewToken) return false;
    let log;
    try { log = await getJSON(url); } catch (e) { replace(body, errorBox(e)); return false; }
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.textContent = (log.truncated ? "… (earlier output cut; showing the last MiB)\n" : "")
                      + (log.text || "");
    if (!log.text) pre.appendChild(el("span", {class: "muted"}, "(empty)"));
    if (atBottom) pre.scrollTop = pre.scrollHeight;
    return step.status === "Running" || step.status === "NotStarted";
  };
  if (await load()) every(POLL_MS, load);
}

function isNumber(v) { return typeof v === "number" && isFinite(v); }

function metricsScalars(metrics) {
  return el("span", {class: "chips"}, Object.entries(metrics).map(([k, v]) =>
    el("span", {class: "chip"}, el("b", {}, k), " ",
       Array.isArray(v) ? v.join(", ") : (typeof v === "object" ? JSON.stringify(v) : String(v)))));
}

function metricsView(metrics) {
  const entries = Object.entries(metrics || {});
  if (!entries.length) return el("p", {class: "muted"}, "No metrics logged.");
  const scalars = entries.filter(([, v]) => !Array.isArray(v) && (v === null || typeof v !== "object"));
  const lists = entries.filter(([, v]) => Array.isArray(v));
  const tables = entries.filter(([, v]) => v && typeof v === "object" && !Array.isArray(v));
  const parts = [];
  if (scalars.length) {
    parts.push(el("h3", {}, "Values"), el("table", {class: "grid metrics", "data-test": "scalars"},
      el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Value"))),
      el("tbody", {}, scalars.map(([k, v]) => el("tr", {"data-metric": k},
        el("td", {}, k), el("td", {class: "num"}, String(v)))))));
  }
  for (const [name, values] of lists) {
    const numeric = values.filter(isNumber);
    parts.push(el("div", {class: "metric", "data-metric": name},
      el("h3", {}, name, el("span", {class: "muted"}, " · list of " + values.length)),
      numeric.length >= 2 && numeric.length === values.length
        ? linePlot(values.map((y, i) => [i, y]), [[name, values]], "index")
        : null,
      el("p", {class: "values mono"}, values.map(String).join(", "))));
  }
  for (const [name, columns] of tables) {
    const names = Object.keys(columns);
    const rows = Math.max(0, ...names.map((c) => (columns[c] || []).length));
    const numericCols = names.filter((c) => columns[c].length >= 2 && columns[c].every(isNumber));
    let plot = null;
    if (numericCols.length) {
      const xName = numericCols.length >= 2 && numericCols[0] === names[0] ? names[0] : null;
      const ys = numericCols.filter((c) => c !== xName);
      const xs = xName ? columns[xName] : [...Array(rows).keys()];
      plot = linePlot(null, ys.map((c) => [c, columns[c]]), xName || "row", xs);
    }
    parts.push(el("div", {class: "metric", "data-metric": name},
      el("h3", {}, name, el("span", {class: "muted"}, " · table of " + rows + " rows")),
      plot,
      el("table", {class: "grid metrics"},
        el("thead", {}, el("tr", {}, names.map((c) => el("th", {}, c)))),
        el("tbody", {}, [...Array(rows).keys()].map((i) => el("tr", {},
          names.map((c) => el("td", {class: "num"},
                              columns[c][i] === undefined ? "" : String(columns[c][i])))))))));
  }
  return el("div", {class: "metrics-view"}, parts);
}

// A line plot drawn as SVG: one polyline per series over shared x values.
function linePlot(_unused, series, xLabel, xValues) {
  const W = 420, H = 180, L = 48, R = 12, T = 12, B = 30;
  const xs = xValues || series[0][1].map((_, i) => i);
  const ys = series.flatMap(([, v]) => v.filter(isNumber));
  if (!ys.length) return null;
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const sx = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const sy = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const fmt = (v) => Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0)
    ? v.toExponential(2) : String(Math.round(v * 1000) / 1000);
  const root = svg("svg", {class: "plot", width: W, height: H, viewBox: `0 0 ${W} ${H}`,
                           role: "img", "aria-label": "plot of " + series.map((s) => s[0]).join(", ")},
    svg("line", {x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis"}),
    svg("line", {x1: L, y1: T, x2: L, y2: H - B, class: "axis"}),
    svg("text", {x: L - 4, y: T + 4, "text-anchor": "end", class: "tick"}, fmt(y1)),
    svg("text", {x: L - 4, y: H - B, "text-anchor": "end", class: "tick"}, fmt(y0)),
    svg("text", {x: L, y: H - B + 14, "text-anchor": "start", class: "tick"}, fmt(x0)),
    svg("text", {x: W - R, y: H - B + 14, "text-anchor": "end", class: "tick"}, fmt(x1)),
    svg("text", {x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", class: "tick"}, xLabel));
  series.forEach(([name, values], i) => {
    const points = values.map((y, j) => isNumber(y) && isNumber(xs[j])
      ? `${sx(xs[j]).toFixed(1)},${sy(y).toFixed(1)}` : null).filter(Boolean);
    root.appendChild(svg("polyline", {points: points.join(" "), class: "series s" + (i % 6)},
                         svg("title", {}, name)));
    values.forEach((y, j) => {
      if (isNumber(y) && isNumber(xs[j])) {
        root.appendChild(svg("circle", {cx: sx(xs[j]).toFixed(1), cy: sy(y).toFixed(1), r: 2.5,
                                        class: "dot s" + (i % 6)},
                             svg("title", {}, `${name}: ${xs[j]} → ${y}`)));
      }
    });
  });
  const legend = series.length > 1 || xValues
    ? el("p", {class: "plot-legend"}, series.map(([name], i) =>
        el("span", {class: "key s" + (i % 6)}, "— ", name))) : null;
  return el("div", {class: "plot-box"}, root, legend);
}

const IMAGE = /\.(png|jpe?g|gif|webp)$/i;

// Images the step logged (log_image keeps them as uploaded files under images/).
async function imagesView(body, run, step) {
  const base = "/ui/api/runs/" + encodeURIComponent(run.id) + "/steps/" +
               encodeURIComponent(step.id);
  let data;
  try { data = await getJSON(base + "/artifacts"); } catch (e) { return; }
  const images = data.files.filter((f) => f.path.startsWith("images/") && IMAGE.test(f.path));
  if (!images.length) return;
  body.appendChild(el("div", {class: "images"}, el("h3", {}, "Images"),
    images.map((f) => el("figure", {"data-image": f.path},
      el("img", {src: base + "/files?inline=1&path=" + encodeURIComponent(f.path),
                 alt: f.path}),
      el("figcaption", {}, f.path.slice("images/".length))))));
}

async function outputsView(body, run, step) {
  replace(body, el("p", {class: "muted"}, "Loading…"));
  const base = "/ui/api/runs/" + encodeURIComponent(run.id) + "/steps/" +
               encodeURIComponent(step.id);
  let data;
  try { data = await getJSON(base + "/artifacts"); } catch (e) { replace(body, errorBox(e)); return; }
  const parts = [];
  if (!data.outputs.length && !data.files.length) {
    parts.push(el("p", {class: "muted"}, step.status === "Finished" ? "This step has no outputs or uploaded files."
                        : "No committed outputs and no uploaded files (a step commits its outputs when it succeeds)."));
  }
  for (const out of data.outputs) {
    parts.push(el("div", {class: "output", "data-output": out.name},
      el("h3", {}, out.name, el("span", {class: "muted"},
         " · " + (out.kind || "") + " on " + (out.datastore || "") + " · " + fmtSize(out.size))),
      out.committed ? el("ul", {class: "files"}, out.files.map((f) => el("li", {},
        el("a", {href: base + "/outputs/" + encodeURIComponent(out.name) + "?path=" +
                       encodeURIComponent(f.path), download: "", "data-path": f.path},
           f.path || out.name), " ", el("span", {class: "muted"}, fmtSize(f.size)))))
        : el("p", {class: "muted"}, "not committed (the step did not finish successfully)")));
  }
  if (data.files.length) {
    parts.push(el("h3", {}, "Uploaded files"), el("ul", {class: "files uploaded"}, data.files.map((f) =>
      el("li", {}, el("a", {href: base + "/files?path=" + encodeURIComponent(f.path),
                            download: "", "data-path": f.path}, f.path), " ",
         el("span", {class: "muted"}, fmtSize(f.size))))));
  }
  replace(body, parts);
}

// ---------------------------------------------------------------- published pipelines

function defaultAssignments(pipeline) {
  const params = {};
  for (const p of pipeline.parameters || []) {
    const name = typeof p === "string" ? p : p.name;
    if (name) params[name] = typeof p === "object" && "default" in p ? p.default : "";
  }
  return params;
}

function experimentFor(pipeline) {
  const name = String(pipeline.pipeline || pipeline.name || "my-experiment");
  return name.replace(/[^A-Za-z0-9_-]/g, "_").replace(/^[_-]+/, "") || "my-experiment";
}

function curlExample(endpoint, pipeline, extra) {
  const body = JSON.stringify(Object.assign({ExperimentName: experimentFor(pipeline),
                                             ParameterAssignments: defaultAssignments(pipeline)},
                                            extra || {}));
  return "curl -X POST '" + endpoint + "' \\\n" +
         "  -H \"Authorization: Bearer $KUBELINE_TOKEN\" \\\n" +
         "  -H 'Content-Type: application/json' \\\n" +
         "  -d '" + body.replace(/'/g, "'\\''") + "'";
}

function endpointOf(item) {
  // Post to this page's own server (the registry may know another host name for it).
  const raw = item.endpoint || item.url || ("/pipelines/" + item.id);
  try {
    const url = new URL(raw, location.origin);
    return location.origin + url.pathname;
  } catch (e) {
    return location.origin + "/pipelines/" + encodeURIComponent(item.id);
  }
}

function runButton(endpoint, pipeline) {
  const token = el("input", {type: "password", placeholder: "paste a token from: kubeline token create",
                             autocomplete: "off", "data-test": "token", size: 40});
  const experiment = el("input", {type: "text", value: experimentFor(pipeline), "data-test": "experiment"});
  const params = el("textarea", {rows: 3, cols: 50, "data-test": "assignments"},
                    JSON.stringify(defaultAssignments(pipeline)));
  const result = el("span", {class: "result", "data-test": "run-result"});
  const button = el("button", {type: "submit", "data-test": "run"}, "Run");
  const form = el("form", {class: "run-form", onsubmit: async (event) => {
    event.preventDefault();
    let assignments;
    try { assignments = JSON.parse(params.value || "{}"); }
    catch (e) { replace(result, errorBox(new Error("ParameterAssignments is not valid JSON"))); return; }
    button.disabled = true;
    replace(result, "starting…");
    try {
      const answer = await getJSON(endpoint, {method: "POST", headers: {
        "Content-Type": "application/json", Accept: "application/json",
        Authorization: "Bearer " + token.value.trim()},
        body: JSON.stringify({ExperimentName: experiment.value, ParameterAssignments: assignments})});
      replace(result, "started ", link(runHref(answer.Id), answer.Id));
      location.hash = runHref(answer.Id);
    } catch (e) {
      replace(result, errorBox(e));
    } finally {
      button.disabled = false;
    }
  }},
    el("label", {}, el("span", {}, "Token"), token),
    el("label", {}, el("span", {}, "ExperimentName"), experiment),
    el("label", {}, el("span", {}, "ParameterAssignments"), params),
    el("div", {}, button, " ", result));
  return form;
}

function copyButton(text) {
  return el("button", {type: "button", class: "copy", onclick: async (event) => {
    try { await navigator.clipboard.writeText(text); event.target.textContent = "copied"; }
    catch (e) { event.target.textContent = "select the text to copy"; }
  }}, "copy");
}

function publishedView(view) {
  const body = el("div", {});
  replace(view, el("h1", {}, "Published pipelines"), body);
  getJSON("/ui/api/published").then((data) => {
    const parts = [];
    if (data.pipelines.error) parts.push(errorBox(new Error(data.pipelines.error)));
    if (!data.pipelines.items.length && !data.pipelines.error) {
      parts.push(el("p", {class: "muted"}, "Nothing published yet: ",
        el("code", {}, "pipeline_run.publish_pipeline(name=..., description=..., version=...)")));
    }
    for (const p of data.pipelines.items) {
      const endpoint = endpointOf(p);
      const curl = curlExample(endpoint, p);
      parts.push(el("section", {class: "card", "data-published": p.id},
        el("h2", {}, el("span", {class: "name"}, p.name), " ",
           el("span", {class: "muted"}, "version " + (p.version ?? "—")), " ",
           el("span", {class: "badge " + (p.status === "Active" ? "finished" : "other")},
              p.status || "")),
        p.description ? el("p", {}, p.description) : null,
        el("dl", {class: "kv small"},
          el("dt", {}, "Id"), el("dd", {class: "mono"}, p.id),
          el("dt", {}, "Endpoint"), el("dd", {class: "mono", "data-test": "endpoint"}, endpoint),
          p.created_at || p.published_at ? [el("dt", {}, "Published"),
            el("dd", {}, fmtTime(p.created_at || p.published_at))] : null,
          p.parameters && p.parameters.length ? [el("dt", {}, "Parameters"),
            el("dd", {}, chips(Object.fromEntries(p.parameters.map((q) =>
              typeof q === "string" ? [q, ""] : [q.name, q.default ?? ""])), "param"))] : null),
        el("h3", {}, "Call it ", copyButton(curl)),
        el("pre", {class: "curl", "data-test": "curl"}, curl),
        el("h3", {}, "Run it from here"),
        p.status && p.status !== "Active" ? el("p", {class: "muted"}, "Disabled: enable it to run.")
          : runButton(endpoint, p)));
    }
    if (data.endpoints.error) parts.push(errorBox(new Error(data.endpoints.error)));
    if (data.endpoints.items.length) parts.push(el("h1", {}, "Pipeline endpoints"));
    for (const e of data.endpoints.items) {
      const endpoint = endpointOf(e);
      const curl = curlExample(endpoint, {name: e.name, parameters: []},
                               {PipelineVersion: String(e.default_version ?? "")});
      parts.push(el("section", {class: "card", "data-endpoint": e.name},
        el("h2", {}, el("span", {class: "name"}, e.name), " ",
           el("span", {class: "badge " + (e.status === "Active" ? "finished" : "other")},
              e.status || "")),
        e.description ? el("p", {}, e.description) : null,
        el("dl", {class: "kv small"},
          el("dt", {}, "Id"), el("dd", {class: "mono"}, e.id),
          el("dt", {}, "Endpoint"), el("dd", {class: "mono"}, endpoint),
          el("dt", {}, "Default version"), el("dd", {}, String(e.default_version ?? "")),
          el("dt", {}, "Versions"), el("dd", {}, (e.versions || []).map((v) =>
            el("span", {class: "chip"}, el("b", {}, String(v.version)), " ",
               el("span", {class: "mono"}, v.published_id))))),
        el("h3", {}, "Call it ", copyButton(curl)),
        el("pre", {class: "curl"}, curl)));
    }
    replace(body, parts);
  }).catch((e) => replace(body, errorBox(e)));
}

// ---------------------------------------------------------------- schedules

function describeSchedule(s) {
  if (s.kind === "time" || s.recurrence) {
    const r = s.recurrence || {};
    const list = (v) => Array.isArray(v) ? v.join(",") : String(v);
    return "every " + (r.interval || 1) + " " + (r.frequency || "") +
      (r.week_days && r.week_days.length ? " on " + list(r.week_days) : "") +
      (r.hours && r.hours.length ? " at hours " + list(r.hours) : "") +
      (r.minutes && r.minutes.length ? " minutes " + list(r.minutes) : "") +
      (r.start_time ? " from " + r.start_time : "") +
      (r.time_zone ? " (" + r.time_zone + ")" : "");
  }
  return "when " + (s.datastore || "") + ":" + (s.path_on_datastore || "") + " changes" +
    (s.polling_interval ? ", polled every " + s.polling_interval + " min" : "");
}

function describeSaw(saw) {
  if (saw === null || saw === undefined) return "";
  if (typeof saw !== "object") return String(saw);
  const parts = Object.entries(saw).map(([k, v]) =>
    k + ": " + (Array.isArray(v) ? v.length + " item" + (v.length === 1 ? "" : "s")
                : (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v))));
  return parts.join(", ");
}

function schedulesView(view) {
  const body = el("div", {});
  replace(view, el("h1", {}, "Schedules"), body);
  every(5 * POLL_MS, async () => {
    let data;
    try { data = await getJSON("/ui/api/schedules"); } catch (e) { replace(body, errorBox(e)); return; }
    if (data.error) { replace(body, errorBox(new Error(data.error))); return; }
    if (!data.items.length) {
      replace(body, el("p", {class: "muted"}, "No schedules: ",
                       el("code", {}, "Schedule.create(ws, name=..., pipeline_id=..., ...)")));
      return;
    }
    replace(body, el("table", {class: "grid", "data-test": "schedules"},
      el("thead", {}, el("tr", {}, ["Name", "Status", "Runs", "When", "Last look", "Saw",
                                    "Last trigger", "Started"].map((h) => el("th", {}, h)))),
      el("tbody", {}, data.items.map((s) => {
        const last = s.last_trigger || {};
        return el("tr", {"data-schedule": s.id},
          el("td", {}, el("b", {}, s.name || s.id), el("br", {}),
             el("span", {class: "mono muted"}, s.id)),
          el("td", {}, el("span", {class: "badge " + (s.status === "Active" ? "finished" : "other")},
                          s.status || "")),
          el("td", {}, s.published_pipeline_id
             ? ["published ", el("span", {class: "mono"}, s.published_pipeline_id)]
             : ["endpoint ", el("span", {class: "mono"}, s.pipeline_endpoint || "")],
             el("br", {}), el("span", {class: "muted"}, "experiment " + (s.experiment || ""))),
          el("td", {}, describeSchedule(s)),
          el("td", {class: "nowrap"}, s.last_look ? fmtTime(s.last_look) : "never"),
          el("td", {}, describeSaw(s.last_saw)),
          el("td", {class: "nowrap"}, last.at ? fmtTime(last.at) : "never",
             last.message ? [el("br", {}), el("span", {class: "muted"}, last.message)] : null),
          el("td", {}, last.run_id ? link(runHref(last.run_id), String(last.run_id).slice(0, 8))
                                   : "—"));
      }))));
  });
}
