"use strict";
/* The MCP Apps bridge (JSON-RPC 2.0 over postMessage with the host) and drawing helpers.
   Data is only ever written as text (textContent / text nodes), never parsed as HTML. */
const LW = (() => {
  const PROTOCOL_VERSION = "2026-01-26";
  const pending = new Map();
  const listeners = {};
  let nextId = 1;
  let lastSize = "";
  let initialized = false;
  let hostCapabilities = {};
  const state = { input: {} };

  function post(message) {
    window.parent.postMessage(Object.assign({ jsonrpc: "2.0" }, message), "*");
  }
  function request(method, params) {
    const id = nextId++;
    post({ id, method, params: params || {} });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }
  function notify(method, params) {
    post({ method, params: params || {} });
  }
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const msg = event.data;
    if (!msg || typeof msg !== "object" || msg.jsonrpc !== "2.0") return;
    if (msg.method === undefined) {
      const waiting = pending.get(msg.id);
      if (!waiting) return;
      pending.delete(msg.id);
      if (msg.error) waiting.reject(new Error(String(msg.error.message || "The host refused.")));
      else waiting.resolve(msg.result || {});
    } else if (msg.id !== undefined) {
      if (msg.method === "ui/resource-teardown" || msg.method === "ping") post({ id: msg.id, result: {} });
      else post({ id: msg.id, error: { code: -32601, message: "Method not found" } });
    } else if (listeners[msg.method]) {
      listeners[msg.method](msg.params || {});
    }
  });

  function applyContext(context) {
    const root = document.documentElement;
    if (context.theme === "light" || context.theme === "dark") root.dataset.theme = context.theme;
    const vars = (context.styles && context.styles.variables) || {};
    for (const [name, value] of Object.entries(vars)) {
      if (name.startsWith("--") && typeof value === "string") root.style.setProperty(name, value);
    }
  }
  function reportSize() {
    if (!initialized) return; /* nothing but the handshake goes to the host before it */
    const rect = document.body.getBoundingClientRect();
    const width = Math.ceil(rect.width);
    const height = Math.ceil(rect.height);
    const key = width + "x" + height;
    if (key === lastSize) return;
    lastSize = key;
    notify("ui/notifications/size-changed", { width, height });
  }

  /* Start the bridge: `app.draw(structuredContent)` draws a result. */
  async function start(app) {
    const root = document.getElementById("app");
    const show = (...nodes) => root.replaceChildren(...nodes);
    listeners["ui/notifications/tool-input"] = (p) => { state.input = p.arguments || {}; };
    listeners["ui/notifications/tool-result"] = (result) => {
      try {
        if (result.isError || !result.structuredContent) {
          const said = (result.content || []).map((c) => c.text || "").join(" ");
          show(el("main", {}, el("p", { class: "error", role: "alert", text: said || "The tool gave no result to draw." })));
        } else {
          show(app.draw(result.structuredContent));
        }
      } catch (error) {
        show(el("main", {}, el("p", { class: "error", role: "alert", text: "This result could not be drawn: " + error.message })));
      }
    };
    listeners["ui/notifications/tool-cancelled"] = (p) => {
      show(el("main", {}, el("p", { class: "muted", text: "Cancelled" + (p.reason ? ": " + p.reason : ".") })));
    };
    listeners["ui/notifications/host-context-changed"] = applyContext;
    new ResizeObserver(() => requestAnimationFrame(reportSize)).observe(document.body);
    try {
      const init = await request("ui/initialize", {
        protocolVersion: PROTOCOL_VERSION,
        appInfo: { name: app.name, version: "1.0.0" },
        appCapabilities: { availableDisplayModes: ["inline"] },
      });
      hostCapabilities = init.hostCapabilities || {};
      applyContext(init.hostContext || {});
    } catch (error) {
      /* a host that refuses the handshake may still send the result */
    }
    notify("ui/notifications/initialized", {});
    initialized = true;
    reportSize();
  }

  /* Call one of this server's tools through the host (only where the host offers it). */
  function canCallTools() {
    return Boolean(hostCapabilities.serverTools);
  }
  async function callTool(name, args) {
    const result = await request("tools/call", { name, arguments: args });
    if (result.isError || !result.structuredContent) {
      throw new Error((result.content || []).map((c) => c.text || "").join(" ") || "No result.");
    }
    return result.structuredContent;
  }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "on") for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
      else if (key === "style") for (const [prop, v] of Object.entries(value)) node.style.setProperty(prop, v);
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const DAY_MS = 86400000;
  function daysSince(iso) {
    const at = Date.parse(iso);
    return Number.isFinite(at) ? Math.max(0, Math.floor((Date.now() - at) / DAY_MS)) : null;
  }
  function ago(iso) {
    if (!iso) return "never";
    const days = daysSince(iso);
    if (days === null) return String(iso);
    return days === 0 ? "today" : days === 1 ? "1 day ago" : days.toLocaleString("en") + " days ago";
  }
  function day(iso) {
    return iso ? String(iso).slice(0, 10) : "—";
  }
  function pct(value) {
    return value === null || value === undefined ? "—" : (Math.round(value * 10) / 10) + "%";
  }
  function count(n) {
    return Number(n || 0).toLocaleString("en");
  }
  function plural(n, one, many) {
    return count(n) + " " + (Number(n) === 1 ? one : many || one + "s");
  }
  function personName(p) {
    const full = [p.first_name, p.last_name].filter(Boolean).join(" ");
    return full || p.username || p.email || p.id || "—";
  }

  /* A stacked bar; every part carries its count as a label and is written out below. */
  function stackedBar(label, parts, widthPercent) {
    const spoken = parts.map((p) => count(p.count) + " " + p.label).join(", ");
    const width = widthPercent === undefined ? null : { width: Math.max(4, widthPercent) + "%" };
    const bar = el("div", { class: "bar", role: "img", "aria-label": label + ": " + spoken, style: width });
    for (const p of parts) {
      if (!p.count) continue;
      bar.append(el("span", {
        class: "seg seg-" + p.key, "data-part": p.key, title: count(p.count) + " " + p.label,
        style: { "flex-grow": String(p.count) },
      }, count(p.count)));
    }
    const figures = el("p", { class: "figures" });
    parts.forEach((p, i) => {
      if (i) figures.append(" · ");
      figures.append(el("span", { "data-figure": p.key },
        el("span", { class: "dot seg-" + p.key, "aria-hidden": "true" }),
        el("b", { text: count(p.count) }), " " + p.label));
    });
    return [bar, figures];
  }

  /* A table sorted by clicking a column; shows `limit` rows, then a button for the rest. */
  function sortableTable(options) {
    const { columns, rows, caption, limit } = options;
    let order = rows.slice();
    let sortKey = null;
    let ascending = true;
    let showAll = rows.length <= limit;
    const tbody = el("tbody");
    const more = el("div", { class: "more" });
    const heads = columns.map((col) => {
      const th = el("th", { scope: "col", class: col.numeric ? "num" : null, "aria-sort": "none" });
      th.append(el("button", { type: "button", "data-sort": col.key, on: { click: () => sortBy(col, th) } }, col.label));
      return th;
    });
    function compare(a, b) {
      if (a === b) return 0;
      if (a === null || a === undefined) return 1;
      if (b === null || b === undefined) return -1;
      return a < b ? -1 : 1;
    }
    function sortBy(col, th) {
      ascending = sortKey === col.key ? !ascending : true;
      sortKey = col.key;
      order = rows.slice().sort((x, y) => {
        const c = compare(col.value(x), col.value(y));
        return ascending ? c : -c;
      });
      heads.forEach((h) => h.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      fill();
    }
    function fill() {
      const shown = showAll ? order : order.slice(0, limit);
      tbody.replaceChildren(...shown.map((row) => el("tr", { "data-row": "" },
        columns.map((col) => el("td", { class: [col.numeric && "num", col.nowrap && "nowrap"].filter(Boolean).join(" ") || null, "data-col": col.key }, col.cell(row))))));
      more.replaceChildren();
      if (!showAll) {
        more.append(el("button", { type: "button", "data-action": "show-all", on: { click: () => { showAll = true; fill(); } } },
          "Show all " + count(rows.length)));
      }
    }
    fill();
    return el("div", { class: "scroll" },
      el("table", {}, caption ? el("caption", { class: "sub", style: { "text-align": "left" }, text: caption }) : null,
        el("thead", {}, el("tr", {}, heads)), tbody),
      more);
  }

  /* What a partial (bounded) or size-cut result says about itself, or null. */
  function statusBanner(data, extra) {
    const partial = data.complete === false;
    if (!partial && !data.truncated) return null;
    const said = data.note || (data.truncated ? "Cut to fit." : "Partial result.");
    return el("div", { class: "banner", role: "status", "data-status": data.truncated ? "truncated" : "partial" },
      el("span", { text: said }), extra || null);
  }

  return { start, el, ago, day, daysSince, pct, count, plural, personName, stackedBar, sortableTable, statusBanner, canCallTools, callTool, state };
})();
