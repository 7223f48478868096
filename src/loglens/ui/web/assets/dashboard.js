/* loglens web page: renders the document of /api/dashboard, live over Server-Sent Events (a whole
   document first, then JSON merge patches), or inlined in a static report. No other request is made. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const inline = $("loglens-data");
  const state = { doc: null, sorts: {}, charts: {} };
  if (params.get("kiosk") === "1") document.body.classList.add("kiosk");

  const fmt = new Intl.NumberFormat("en-US");
  const num = (v) => (v === null || v === undefined ? "–" : fmt.format(v));
  const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + " %");
  const when = (v) => (typeof v === "string" ? v.replace("T", " ") : v ?? "–");
  const secs = (v) => (v === null || v === undefined ? "–" : v < 1 ? (1000 * v).toFixed(1) + " ms" : v.toFixed(2) + " s");
  function bytes(v) {
    if (v === null || v === undefined) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(1) : String(v)) + " " + units[i];
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child instanceof Node ? child : String(child));
    return node;
  }

  function applyPatch(target, patch) {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
    const out = target && typeof target === "object" && !Array.isArray(target) ? target : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k]; else out[k] = applyPatch(out[k], v);
    }
    return out;
  }

  // ---- tables ---------------------------------------------------------------------------------
  const keyed = (map) => Object.entries(map || {}).map(([k, v]) => [k, ...(Array.isArray(v) ? v : [v])]);
  function withShare(rows) {
    const all = rows.reduce((s, r) => s + r[1], 0) || 1;
    return rows.map((r) => [r[0], r[1], r[1] / all, ...r.slice(2)]);
  }
  const HITS = [{ name: "hits", num: true, fmt: num, bar: true }, { name: "share", num: true, fmt: pct, share: 1 }];
  const GOACCESS = [...HITS, { name: "bandwidth", num: true, fmt: bytes }, { name: "time served", num: true, fmt: secs }];
  const panel = (id, title, key) => ({
    id, title, clip: true, cols: [{ name: key }, ...GOACCESS],
    rows: (d) => d.panels ? withShare(keyed(d.panels[id])) : null,
    empty: (d) => d.panels ? "none yet" : "not kept by this loglens",
  });
  const TABLES = [
    { id: "status", title: "Status codes", cols: [{ name: "code" }, ...HITS],
      rows: (d) => withShare(keyed(d.summary.status)) },
    { id: "status_classes", title: "Status classes", cols: [{ name: "class" }, ...HITS],
      rows: (d) => withShare(keyed(d.summary.status_classes)) },
    { id: "sections", title: "Top sections", cols: [{ name: "section" }, { name: "hits", num: true, fmt: num, bar: true },
        { name: "errors", num: true, fmt: num }, { name: "error share", num: true, fmt: pct }],
      rows: (d) => keyed(d.summary.sections) },
    { id: "methods", title: "Methods", cols: [{ name: "method" }, ...HITS],
      rows: (d) => withShare(keyed(d.summary.methods)) },
    { id: "levels", title: "Levels", cols: [{ name: "level" }, ...HITS],
      rows: (d) => withShare(keyed(d.summary.levels)), empty: () => "no application log lines" },
    { id: "active", title: "Active alerts", cols: [{ name: "rule" }, { name: "state", cls: (v) => v }, { name: "since", fmt: when },
        { name: "value", num: true, fmt: num }],
      rows: (d) => d.alerts ? d.alerts.active.map((a) => [a.rule + labels(a.labels), a.state, a.since, a.value]) : null,
      empty: (d) => d.alerts ? "no alert is firing" : "alerts are evaluated by a running loglens" },
    { id: "history", title: "Incidents", wide: true, cols: [{ name: "rule" }, { name: "fired", fmt: when }, { name: "recovered", fmt: when },
        { name: "seconds", num: true, fmt: num }, { name: "peak", num: true, fmt: num }],
      rows: (d) => d.alerts ? d.alerts.history.map((i) => [i.rule + labels(i.labels), i.start, i.end || "firing",
        i.duration_seconds, i.max_value]) : null,
      empty: (d) => d.alerts ? "no incident yet" : "alerts are evaluated by a running loglens" },
    { id: "anomalies", title: "Anomalies", wide: true, cols: [{ name: "detector" }, { name: "series" }, { name: "at", fmt: when },
        { name: "score", num: true, fmt: num }, { name: "observed", num: true, fmt: num }, { name: "expected", num: true, fmt: num }],
      rows: (d) => d.anomalies ? d.anomalies.items.map((a) => [a.detector, a.series, a.at, a.score, a.observed, a.baseline]) : null,
      empty: (d) => d.anomalies && !d.anomalies.enabled ? "anomaly detection is off" : d.anomalies ? "none yet" : "scored by a running loglens" },
    { id: "patterns", title: "Log patterns", wide: true, cols: [{ name: "template" }, { name: "count", num: true, fmt: num, bar: true },
        { name: "first seen", fmt: when }, { name: "example" }],
      rows: (d) => d.patterns && d.patterns.enabled ? d.patterns.templates : null,
      empty: (d) => d.patterns && d.patterns.enabled ? "none yet" : "pattern mining is off" },
    { id: "sources", title: "Sources", wide: true, cols: [{ name: "source" }, { name: "lines", num: true, fmt: num },
        { name: "parse errors", num: true, fmt: num }, { name: "lag", num: true, fmt: bytes }, { name: "lines/s", num: true, fmt: num },
        { name: "rotations", num: true, fmt: num }, { name: "errors", num: true, fmt: num }, { name: "healthy", cls: (v) => v === "yes" ? "ok" : "firing" }],
      rows: (d) => Object.entries(d.sources || {}).map(([k, s]) => [k, s.lines, s.parse_errors, s.lag_bytes,
        s.lines_per_second, s.rotations, s.errors, s.healthy ? "yes" : "no"]) },
    { id: "visitors", title: "Unique visitors per day", clip: true, cols: [{ name: "day" }, { name: "hits", num: true, fmt: num, bar: true },
        { name: "visitors", num: true, fmt: num }, { name: "bandwidth", num: true, fmt: bytes }, { name: "time served", num: true, fmt: secs }],
      rows: (d) => d.panels ? keyed(d.panels.visitors).map((r) => [r[0], r[1], r[4], r[2], r[3]]) : null,
      empty: (d) => d.panels ? "none yet" : "not kept by this loglens", sort: { col: 0, dir: -1 } },
    panel("paths", "Requested files", "path"),
    panel("static", "Static requests", "path"),
    panel("not_found", "Not found (404)", "path"),
    panel("clients", "Visitor hosts and IPs", "host"),
    panel("os", "Operating systems", "system"),
    panel("browsers", "Browsers", "browser"),
    panel("bots", "Bots and crawlers", "bot"),
    Object.assign(panel("hours", "Time distribution (hits per hour, UTC)", "hour"), { sort: { col: 0, dir: 1 } }),
    panel("referring_sites", "Referring sites", "site"),
    panel("referrers", "Referrer URLs", "referrer"),
    panel("users", "Remote users", "user"),
    Object.assign(panel("vhosts", "Virtual hosts", "host"), {
      empty: (d) => !d.panels ? "not kept by this loglens" : d.meta.vhosts ? "none yet"
        : "the log format has no virtual host (vhost_combined, %v or $host logs it)" }),
  ];
  const labels = (l) => { const s = Object.entries(l || {}).map(([k, v]) => k + "=" + v).join(","); return s ? " {" + s + "}" : ""; };

  function sortRows(def, rows) {
    const sort = state.sorts[def.id] || def.sort || { col: def.cols.length > 1 && def.cols[1].num ? 1 : 0, dir: def.cols[1] && def.cols[1].num ? -1 : 1 };
    const { col, dir } = sort;
    return [rows.slice().sort((a, b) => {
      const x = a[col], y = b[col];
      if (typeof x === "number" && typeof y === "number") return dir * (x - y) || String(a[0]).localeCompare(String(b[0]));
      return dir * String(x ?? "").localeCompare(String(y ?? ""));
    }), sort];
  }

  function renderTable(def, doc) {
    let box = $("panel-" + def.id);
    if (!box) {
      box = el("section", { id: "panel-" + def.id, class: "panel" + (def.wide ? " wide" : ""), "aria-labelledby": "h-" + def.id },
        el("h2", { id: "h-" + def.id }, def.title), el("div", { class: "scroll" }));
      $("tables").append(box);
    }
    const rows = def.rows(doc);
    const holder = box.querySelector(".scroll");
    if (!rows || !rows.length) {
      holder.replaceChildren(el("p", { class: "empty" }, rows ? (def.empty ? def.empty(doc) : "none yet") : def.empty(doc)));
      return;
    }
    const [sorted, sort] = sortRows(def, rows);
    const top = Math.max(1, ...rows.map((r) => (typeof r[1] === "number" ? r[1] : 0)));
    const head = el("tr", {}, ...def.cols.map((c, i) => {
      const th = el("th", { scope: "col", class: c.num ? "num" : null, "aria-sort": sort.col === i ? (sort.dir > 0 ? "ascending" : "descending") : "none" });
      const button = el("button", { type: "button", "aria-label": "sort by " + c.name }, c.name);
      button.addEventListener("click", () => {
        state.sorts[def.id] = { col: i, dir: sort.col === i ? -sort.dir : (c.num ? -1 : 1) };
        renderTable(def, state.doc);
        $("panel-" + def.id).querySelector("th:nth-child(" + (i + 1) + ") button").focus();
      });
      th.append(button);
      return th;
    }));
    const body = sorted.map((r) => el("tr", { "data-key": String(r[0]) }, ...def.cols.map((c, i) => {
      const v = r[i];
      const text = c.fmt ? c.fmt(v) : v ?? "–";
      const clip = def.clip && i === 0;
      const cls = [c.num ? "num" : "key", clip ? "clip" : "", c.cls ? c.cls(v) : "", c.bar ? "bar" : ""].join(" ").trim();
      const td = el("td", clip ? { class: cls, title: String(text) } : { class: cls });
      if (c.bar && typeof v === "number") td.append(el("span", { style: "width:" + (100 * v / top).toFixed(1) + "%" }), el("b", {}, text));
      else td.append(text);
      return td;
    })));
    holder.replaceChildren(el("table", { id: "t-" + def.id }, el("thead", {}, head), el("tbody", {}, ...body)));
  }

  // ---- KPIs and charts ------------------------------------------------------------------------
  function renderKpis(doc) {
    const s = doc.summary;
    const kpis = [
      ["lines", "lines", num(s.lines)], ["hits", "hits", num(s.hits)],
      ["rate", "hits/s (last 10 s)", num(recentRate(doc))], ["bytes", "bandwidth", bytes(s.bytes)],
      ["4xx", "4xx", num(s.errors["4xx"])], ["5xx", "5xx", num(s.errors["5xx"])],
      ["served", "mean time served", secs(s.mean_duration_seconds)],
      ["visitors", s.clients === undefined ? "parse errors" : "distinct clients",
        s.clients === undefined ? num(Object.values(s.parse_errors || {}).reduce((a, b) => a + b, 0)) : num(s.clients)],
      ["alerts", "alerts firing", doc.alerts ? num(doc.alerts.active.filter((a) => a.state === "firing").length) : "–"],
    ];
    $("kpis").replaceChildren(...kpis.map(([id, label, value]) =>
      el("div", { class: "kpi", id: "kpi-" + id }, el("div", { class: "value" }, value), el("div", { class: "label" }, label))));
  }

  function chartOptions(name, width) {
    const css = getComputedStyle(document.documentElement);
    const color = (v) => css.getPropertyValue(v).trim();
    const axis = { stroke: color("--muted"), grid: { stroke: color("--line") }, ticks: { stroke: color("--line") } };
    return {
      title: "per second, last " + name, width, height: 180,
      series: [{}, { label: "hits/s", stroke: color("--accent"), width: 2 },
        { label: "4xx/s", stroke: color("--warn"), width: 1.5 }, { label: "5xx/s", stroke: color("--bad"), width: 1.5 }],
      axes: [axis, axis], scales: { x: { time: true } }, legend: { live: false },
    };
  }

  function renderCharts(doc) {
    const holder = $("charts");
    if (!doc.charts) { holder.hidden = true; return; }
    holder.hidden = false;
    const names = Object.keys(doc.charts);
    for (const name of names) {
      if (!$("chart-" + name)) holder.append(el("div", { class: "chart", id: "chart-" + name, role: "img",
        "aria-label": "hits, 4xx and 5xx per second over the last " + name }));
    }
    for (const name of names) {
      const chart = doc.charts[name];
      const xs = Object.keys(chart.points).map(Number).sort((a, b) => a - b);
      const data = [xs, [], [], []];
      for (const x of xs) { const p = chart.points[String(x)]; for (let i = 0; i < 3; i++) data[i + 1].push(p[i] / chart.step); }
      if (!state.charts[name]) state.charts[name] = new uPlot(chartOptions(name, chartWidth(name)), data, $("chart-" + name));
      else state.charts[name].setData(data);
    }
  }
  const chartWidth = (name) => Math.max(240, $("chart-" + name).clientWidth - 14);
  window.addEventListener("resize", () => {
    for (const [name, chart] of Object.entries(state.charts)) chart.setSize({ width: chartWidth(name), height: 180 });
  });

  // The rate of the last ten whole seconds, from the 5-minute chart.
  function recentRate(doc) {
    const chart = doc.charts && doc.charts["5m"];
    if (!chart) return undefined;
    const xs = Object.keys(chart.points).map(Number).sort((a, b) => a - b).slice(-11, -1);
    return xs.length ? xs.reduce((s, x) => s + chart.points[String(x)][0], 0) / xs.length : undefined;
  }

  // ---- the document ---------------------------------------------------------------------------
  function render() {
    const doc = state.doc;
    const meta = doc.meta;
    $("mode").textContent = meta.mode === "report" ? "report" : "live";
    renderSources(meta);
    $("updated").textContent = meta.mode === "report"
      ? "report of " + meta.files.join(", ") + (meta.elapsed_seconds !== null ? " (" + meta.elapsed_seconds + " s)" : "")
      : "updated " + meta.now.replace("T", " ").replace("Z", " UTC");
    const note = $("note");
    note.hidden = !(meta.source && meta.range_seconds);
    note.textContent = doc.summary.source
      ? "Over a range, one source is counted by whole minutes, the minute under way included."
      : "The goaccess panels are off: over a range, the totals, status codes, sections and methods are of "
        + "every source; the charts are of this source.";
    renderKpis(doc);
    renderCharts(doc);
    for (const def of TABLES) renderTable(def, doc);
    $("footer").textContent = "loglens " + meta.version + " · generated " + meta.generated_at + " · rows per panel: " + meta.rows;
  }

  function renderSources(meta) {
    const select = $("source");
    const wanted = ["", ...meta.sources];
    const have = Array.from(select.options).map((o) => o.value);
    if (wanted.join("\n") !== have.join("\n")) {
      select.replaceChildren(...wanted.map((v) => el("option", { value: v }, v || "every source")));
    }
    select.value = meta.source || "";
    $("range").value = meta.range_seconds ? String(meta.range_seconds) : "";
    $("range").disabled = meta.mode === "report";
  }

  let stream = null;
  function connect() {
    if (stream) stream.close();
    const query = new URLSearchParams();
    for (const key of ["source", "range", "rows"]) if (params.get(key)) query.set(key, params.get(key));
    stream = new EventSource("api/dashboard/events?" + query.toString());
    stream.addEventListener("snapshot", (e) => { state.doc = JSON.parse(e.data); render(); });
    stream.addEventListener("delta", (e) => { if (state.doc) { state.doc = applyPatch(state.doc, JSON.parse(e.data)); render(); } });
    stream.addEventListener("error", () => { $("updated").textContent = "reconnecting…"; });
  }

  function choose(key, value) {
    if (value) params.set(key, value); else params.delete(key);
    history.replaceState(null, "", "?" + params.toString());
    if (!inline) connect();
  }
  $("range").addEventListener("change", (e) => choose("range", e.target.value));
  $("source").addEventListener("change", (e) => {
    if (inline) {
      const pick = e.target.value || "";
      state.doc.summary = state.doc.summary_by_source[pick];
      state.doc.panels = state.doc.panels_by_source ? state.doc.panels_by_source[pick] : state.doc.panels;
      state.doc.meta.source = pick || null;
      render();
    }
    else choose("source", e.target.value);
  });

  if (inline) { state.doc = JSON.parse(inline.textContent); state.doc.summary = state.doc.summary_by_source[""]; render(); }
  else connect();
})();
