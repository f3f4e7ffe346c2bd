// The dashboard: one snapshot a second and the events feed through the event-bus bridge (outbound only); the
// ledger through the REST API. window.fleetvoteStats keeps what the benchmark reads: bytes received and how long
// each snapshot took to apply (performance.measure "apply-snapshot").
"use strict";

const HISTORY_SECONDS = 600;
const MAX_EVENTS = 200;
const state = { me: null, history: [], markers: [], groups: [], loadPlot: null, sizePlot: null, loadSeries: "",
  sizeSeries: "", lagPlot: null, lagSeries: "", ledgerTimer: null };
window.fleetvoteStats = { snapshots: 0, applyMs: [], lastSnapshotAt: 0, instancesShown: 0 };

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "'": "&#39;" }[c]));
}

function duration(ms) {
  if (ms == null) return "";
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

function time(ms) {
  return new Date(ms).toLocaleTimeString();
}

async function api(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (response.status === 401) {
    location.href = "/login.html";
    throw new Error("not logged in");
  }
  return response.json();
}

function csrf() {
  const match = document.cookie.match(/(?:^|; )fv_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// An operator's action: POST with the session cookie and its CSRF token; the answer (or the refusal) in the notice.
async function act(path, body) {
  const notice = document.getElementById("notice");
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(body || {}),
  });
  let answer = {};
  try {
    answer = await response.json();
  } catch (e) {
    answer = { error: "HTTP " + response.status };
  }
  notice.textContent = response.ok ? "done: " + (answer.reason || answer.entry || "ok")
    : "refused (" + response.status + "): " + answer.error;
  notice.className = response.ok ? "notice ok" : "notice refused";
  if (response.ok) loadLedger();
}

function onAction(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const { action, group, instance } = button.dataset;
  if (group) {
    const base = "/api/groups/" + encodeURIComponent(group) + "/";
    if (action === "bounds") {
      const card = button.closest(".group");
      act(base + "bounds", { min: Number(card.querySelector(".min").value),
        max: Number(card.querySelector(".max").value) });
    } else if (action === "scale-up" || action === "scale-down") {
      act(base + "scale", { by: action === "scale-up" ? 1 : -1 });
    } else {
      act(base + action);
    }
  } else if (instance) {
    act("/api/instances/" + encodeURIComponent(instance) + "/" + action);
  } else if (action === "acknowledge-failover") {
    act("/api/db/acknowledge");
  } else if (action === "db-switchover") {
    act("/api/db/switchover");
  } else if (action === "db-force-failover") {
    // Past automatic failover's refusal (e.g. semi-sync off: acknowledged writes may be missing on the replica).
    const reason = prompt("Force the failover of the dead master? The reason (kept in the journal and the ledger):");
    if (reason && reason.trim()) act("/api/db/failover", { reason: reason.trim() });
  } else if (action === "db-rebuild") {
    if (confirm("Build the replica's slot anew (a new instance and volume)?")) act("/api/db/rebuild");
  } else if (action === "db-maintenance") {
    act("/api/db/maintenance", { on: button.dataset.on === "true" });
  }
}

function renderGroups(groups) {
  const focused = document.activeElement;
  if (focused && focused.tagName === "INPUT" && focused.closest(".group")) return; // bounds being typed: keep them
  document.getElementById("groups").innerHTML = groups.map((g) => {
    const v = g.votes || {};
    return `<div class="card group" data-group="${esc(g.name)}">
      <h3>${esc(g.name)} <small class="muted">${g.paused ? "paused" : "autoscaling"}</small></h3>
      <div><b class="size">${g.size}</b> instance(s), min ${g.min}, max ${g.max}${g.launchesInFlight
        ? `, launching ${g.launchesInFlight}` : ""}</div>
      <div class="votes"><span class="grow">grow ${v.grow ?? 0}</span><span class="shrink">shrink ${v.shrink ?? 0}</span>
        <span class="none">none ${v.none ?? 0}</span><span class="expired">expired ${v.expired ?? 0}</span></div>
      <div class="muted">${g.calmLeftMs > 0 ? "calm for " + duration(g.calmLeftMs) : "not in calm time"}</div>
      <div class="actions">
        <button type="button" data-action="${g.paused ? "resume" : "pause"}" data-group="${esc(g.name)}">${g.paused
          ? "resume" : "pause"}</button>
        <button type="button" data-action="scale-up" data-group="${esc(g.name)}">+1</button>
        <button type="button" data-action="scale-down" data-group="${esc(g.name)}">&minus;1</button>
        <input class="min" type="number" min="0" value="${g.min}" aria-label="min">
        <input class="max" type="number" min="1" value="${g.max}" aria-label="max">
        <button type="button" data-action="bounds" data-group="${esc(g.name)}">set</button>
      </div>
    </div>`;
  }).join("");
  const select = document.getElementById("ledger-group");
  const known = new Set([...select.options].map((o) => o.value));
  for (const g of groups) {
    if (!known.has(g.name)) select.add(new Option(g.name, g.name));
  }
}

function renderInstances(instances) {
  const c = Object.fromEntries(instances.columns.map((name, i) => [name, i]));
  const rows = instances.rows.slice().sort((a, b) => (a[c.group] + a[c.id]).localeCompare(b[c.group] + b[c.id]));
  document.querySelector("#instances tbody").innerHTML = rows.map((r) => `<tr data-instance="${esc(r[c.id])}">
    <td>${esc(r[c.id])}</td><td>${esc(r[c.group])}</td><td>${esc((r[c.roles] || []).join(", "))}</td>
    <td>${esc(r[c.state])}${r[c.drained] ? " (drained)" : r[c.leaving] ? " (leaving)" : ""}</td>
    <td class="${r[c.health] && r[c.health] !== "ok" ? "warn" : ""}">${esc(r[c.health] ?? "")}</td>
    <td>${esc(r[c.address])}</td>
    <td>${r[c.load] == null ? "" : r[c.load].toFixed(0) + " %"}</td>
    <td class="${esc(r[c.vote])}">${esc(r[c.vote] ?? "")}${r[c.vote] && !r[c.warm] ? " (warming)" : ""}</td>
    <td>${esc(r[c.haproxy] ?? "")}</td><td>${r[c.sessions] ?? ""}</td><td>${duration(r[c.uptimeMs])}</td>
    <td>${r[c.group] && state.groups.includes(r[c.group]) ? `<button type="button" data-action="${r[c.protected]
      ? "unprotect" : "protect"}" data-instance="${esc(r[c.id])}">${r[c.protected] ? "unprotect" : "protect"}</button>
      <button type="button" data-action="${r[c.drained] ? "undrain" : "drain"}" data-instance="${esc(r[c.id])}">${r[c.drained]
        ? "undrain" : "drain"}</button>` : ""}</td></tr>`)
    .join("");
  document.getElementById("instance-count").textContent = "(" + rows.length + ")";
  window.fleetvoteStats.instancesShown = rows.length;
}

function renderBackends(lbs) {
  document.getElementById("backends").innerHTML = lbs.length === 0 ? '<p class="muted">no LB reports</p>'
    : lbs.map((lb) => `<div class="backend"><b>${esc(lb.instanceId)}</b> <span class="muted">serves
      ${esc(lb.serves)}</span>${lb.failOpen ? ` <span class="warn">fails open: ${esc(lb.note)}</span>` : ""}
      <table><thead><tr><th>server</th><th>state</th><th>check</th><th>weight</th><th>sessions</th>
      <th>requests</th></tr></thead><tbody>${lb.servers.map((s) => `<tr><td>${esc(s[0])}</td><td>${esc(s[1])}</td>
      <td>${esc(s[2])}</td><td>${s[5]}</td><td>${s[3]}</td><td>${s[4]}</td></tr>`).join("")}</tbody></table>
      ${lb.db ? `<p class="db-backends">DB writes to ${esc(lb.db.write || "no one")}, reads from
      ${esc(lb.db.read.join(", ") || "no one")} (fence ${lb.db.fence})${lb.db.problem
        ? ` <span class="warn">${esc(lb.db.problem)}</span>` : ""}</p>` : ""}</div>`)
      .join("");
}

function renderDb(db) {
  const pair = db ? db.pair : null;
  document.getElementById("db-phase").textContent = pair ? "(" + pair.phase + ")" : "";
  if (!pair) {
    document.getElementById("db").innerHTML = '<p class="muted">no DB pair in the groups file</p>';
    return;
  }
  const reports = new Map((db.instances || []).map((r) => [r.instanceId, r]));
  const master = pair.route && pair.route.master ? pair.route.master.instanceId : null;
  const rows = (pair.slots || []).map((slot) => {
    const r = reports.get(slot.instanceId);
    const up = r && r.server === "up";
    const replication = !up || slot.role === "master" ? "" : `IO ${esc(r.ioThread)}, SQL ${esc(r.sqlThread)}`;
    const semi = !up ? "" : slot.role === "master"
      ? (r.semiSyncMaster ? `on (${r.semiSyncClients} acking)` : "off") : (r.semiSyncSlave ? "on" : "off");
    return `<tr><td>${slot.slot}</td><td>${esc(slot.role)}</td><td>${esc(slot.instanceId ?? "(none)")}</td>
      <td>${esc(slot.volumeId ?? "")} ${esc(slot.volumeState ?? "")}</td><td>${esc(r ? r.server : "unheard")}</td>
      <td>${up ? (r.readOnly ? "read-only" : "writable") : ""}</td><td>${up ? esc(r.gtidBinlogPos) : ""}</td>
      <td>${up ? esc(r.gtidSlavePos) : ""}</td><td>${replication}</td>
      <td>${up && r.lagSeconds >= 0 ? r.lagSeconds + " s" : ""}</td><td>${semi}</td></tr>`;
  }).join("");
  const problems = (pair.problems || []).map((p) => `<li class="warn">${esc(p)}</li>`).join("");
  const health = pair.masterHealth;
  const judged = health ? `<p id="db-master-health">master ${esc(health.instanceId)}:
    <b class="${health.verdict === "alive" ? "" : "warn"}">${esc(health.verdict.replaceAll("_", " "))}</b>
    <span class="muted">(${esc(health.reason)}; dead after ${health.of} agreeing rounds)</span>${health.refusal
      ? ` <span class="warn" id="db-failover-refusal">no failover: ${esc(health.refusal)}</span>${health.verdict === "dead"
        ? ' <button type="button" data-action="db-force-failover">force failover</button>' : ""}` : ""}</p>` : "";
  const f = pair.topology ? pair.topology.failover : null;
  const flap = pair.antiFlap;
  const failover = f ? `<div id="db-failover"><h3>Failover ${esc(f.id)} <small class="muted">(${esc(f.phase)}:
    ${esc(f.oldMaster)} to ${esc(f.target)}${f.lost >= 0 ? `, ${f.lost} transactions lost by GTID arithmetic` : ""}${
    f.acknowledgedBy ? `, acknowledged by ${esc(f.acknowledgedBy)}` : ""})</small></h3>
    <ol id="db-failover-journal">${(f.steps || []).map((st) => `<li>${time(st.at)} <b>${esc(st.name)}</b>
      ${esc(st.text)} <span class="muted">(fence ${st.fence})</span></li>`).join("")}</ol></div>` : "";
  const antiFlap = flap ? `<p id="db-anti-flap">automatic failover ${flap.automatic ? "on" : "off"}, at most one
    per ${flap.windowSeconds} s: ${flap.holdsOff ? `<b class="warn">the next waits until ${time(flap.until)} unless
    acknowledged</b>` : "none held back"}${f && !f.acknowledgedBy && (f.phase === "done" || f.phase === "failed")
      ? ' <button type="button" data-action="acknowledge-failover">acknowledge</button>' : ""}</p>
    <p id="db-maintenance">${pair.maintenance ? `<b class="warn">under maintenance</b> since
      ${time(pair.maintenance.since)} by ${esc(pair.maintenance.by)}${pair.maintenance.reason
        ? " (" + esc(pair.maintenance.reason) + ")" : ""}: the master is not judged`
      : "not under maintenance"} <button type="button" data-action="db-maintenance"
      data-on="${pair.maintenance ? "false" : "true"}">${pair.maintenance ? "end maintenance"
      : "maintenance"}</button> <button type="button" data-action="db-switchover">switchover</button>
      <button type="button" data-action="db-rebuild">rebuild replica</button>${pair.switchover
        ? ` <span class="muted" id="db-switchover">last ${pair.switchover.kind === "failover" ? "forced failover"
          : "switchover"} asked by ${esc(pair.switchover.by)}:
        ${esc(pair.switchover.state)}${pair.switchover.why ? " (" + esc(pair.switchover.why) + ")" : ""}</span>`
        : ""}</p>` : "";
  document.getElementById("db").innerHTML = `<p>writes go to <b>${esc(master ?? "no one")}</b>
    <span class="muted">(fence ${pair.topology ? pair.topology.fence : "?"}, master slot
    ${pair.topology ? pair.topology.masterSlot : "?"})</span></p>${judged}
    <table id="db-servers"><thead><tr><th>slot</th><th>role</th><th>instance</th><th>volume</th><th>server</th>
    <th>read_only</th><th>binlog GTID</th><th>applied GTID</th><th>replication</th><th>lag</th><th>semi-sync</th>
    </tr></thead><tbody>${rows}</tbody></table>${problems ? `<ul>${problems}</ul>` : ""}${antiFlap}${failover}${
      earlier(pair.history || [], f)}`;
}

// The failovers before the latest, as this coordinator's journal has them: one line each, newest first.
function earlier(history, latest) {
  const before = history.filter((h) => !latest || h.id !== latest.id);
  return before.length === 0 ? "" : `<details id="db-failover-history"><summary>${before.length} earlier
    failover(s)</summary><ul>${before.map((h) => `<li>${time(h.startedAt)} <b>${esc(h.id)}</b> ${esc(h.kind ?? "")}
    ${esc(h.oldMaster ?? "?")} to ${esc(h.target ?? "?")}: ${esc(h.phase ?? "?")} <span class="muted">(last step
    ${esc(h.lastStep)} at ${time(h.lastAt)})</span></li>`).join("")}</ul></details>`;
}

// ---------------------------------------------------------------- charts

function markersPlugin() {
  return {
    hooks: {
      draw: [(u) => {
        const { ctx } = u;
        const [min, max] = [u.scales.x.min, u.scales.x.max];
        ctx.save();
        for (const m of state.markers) {
          if (m.t < min || m.t > max) continue;
          const x = Math.round(u.valToPos(m.t, "x", true));
          ctx.strokeStyle = m.outcome === "grow" ? "#1f7a3d" : "#b3541e";
          ctx.setLineDash([4, 3]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.fillStyle = ctx.strokeStyle;
          ctx.fillText(m.outcome + " " + m.group, x + 3, u.bbox.top + 10);
        }
        ctx.restore();
      }],
    },
  };
}

const COLORS = ["#2f6fdd", "#1f7a3d", "#b3541e", "#8a3ffc", "#d12771", "#007d79", "#a56eff", "#6f5f00"];

function plot(elementId, names, data, label, existing) {
  const element = document.getElementById(elementId);
  const width = Math.max(400, element.clientWidth - 10);
  if (existing) existing.destroy();
  return new uPlot({
    width, height: 200, plugins: [markersPlugin()],
    scales: { x: { time: true } },
    axes: [{}, { label }],
    series: [{}, ...names.map((name, i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 1.5,
      spanGaps: false }))],
  }, data, element);
}

/** A GTID position ("0-1-42,1-2-7") as domain -> sequence number. */
function gtidSeqs(position) {
  const seqs = {};
  for (const part of (position || "").split(",")) {
    const fields = part.trim().split("-");
    if (fields.length === 3) seqs[fields[0]] = Number(fields[2]);
  }
  return seqs;
}

/** Each replica's lag: seconds behind (its own report) and transactions its master logged that it has not applied. */
function replicaLag(db) {
  const pair = db ? db.pair : null;
  if (!pair || !pair.route || !pair.route.master) return {};
  const reports = new Map((db.instances || []).map((r) => [r.instanceId, r]));
  const master = reports.get(pair.route.master.instanceId);
  if (!master || master.server !== "up") return {};
  const logged = gtidSeqs(master.gtidBinlogPos);
  const lag = {};
  for (const slot of pair.slots || []) {
    const r = reports.get(slot.instanceId);
    if (slot.role !== "replica" || !r || r.server !== "up") continue;
    const applied = gtidSeqs(r.gtidSlavePos);
    const behind = Object.keys(logged).reduce((sum, d) => sum + Math.max(0, logged[d] - (applied[d] ?? 0)), 0);
    lag[r.instanceId] = { seconds: r.lagSeconds >= 0 ? r.lagSeconds : null, behind };
  }
  return lag;
}

function plotLag(names, data, existing) {
  const element = document.getElementById("db-lag-chart");
  const width = Math.max(400, element.clientWidth - 10);
  if (existing) existing.destroy();
  const series = [{}];
  names.forEach((name, i) => {
    series.push({ label: name + " s behind", scale: "s", stroke: COLORS[i % COLORS.length], width: 1.5 });
    series.push({ label: name + " transactions behind", scale: "trx", stroke: COLORS[i % COLORS.length], width: 1,
      dash: [4, 3] });
  });
  return new uPlot({
    width, height: 160, scales: { x: { time: true }, s: { range: (u, min, max) => [0, Math.max(1, max)] },
      trx: { range: (u, min, max) => [0, Math.max(1, max)] } },
    axes: [{}, { scale: "s", label: "seconds" },
      { scale: "trx", side: 1, label: "transactions", grid: { show: false } }],
    series,
  }, data, element);
}

function updateCharts(snapshot) {
  const c = Object.fromEntries(snapshot.instances.columns.map((name, i) => [name, i]));
  const point = { t: snapshot.at / 1000, load: {}, size: {} };
  for (const r of snapshot.instances.rows) {
    if (r[c.load] != null) point.load[r[c.id]] = r[c.load];
  }
  for (const g of snapshot.groups) point.size[g.name] = g.size;
  point.lag = replicaLag(snapshot.db);
  state.history.push(point);
  while (state.history.length > HISTORY_SECONDS) state.history.shift();

  const instanceNames = [...new Set(snapshot.instances.rows.map((r) => r[c.id]))].sort();
  const groupNames = snapshot.groups.map((g) => g.name).sort();
  const xs = state.history.map((p) => p.t);
  const loadData = [xs, ...instanceNames.map((n) => state.history.map((p) => p.load[n] ?? null))];
  const sizeData = [xs, ...groupNames.map((n) => state.history.map((p) => p.size[n] ?? null))];
  if (state.loadSeries !== instanceNames.join(",") || !state.loadPlot) {
    state.loadSeries = instanceNames.join(",");
    state.loadPlot = plot("load-chart", instanceNames, loadData, "load %", state.loadPlot);
  } else {
    state.loadPlot.setData(loadData);
  }
  const replicas = [...new Set(state.history.flatMap((p) => Object.keys(p.lag || {})))].sort();
  const lagData = [xs];
  for (const n of replicas) {
    lagData.push(state.history.map((p) => (p.lag && p.lag[n] ? p.lag[n].seconds : null)));
    lagData.push(state.history.map((p) => (p.lag && p.lag[n] ? p.lag[n].behind : null)));
  }
  window.fleetvoteStats.lagSeries = replicas.length;
  if (state.lagSeries !== replicas.join(",") || !state.lagPlot) {
    state.lagSeries = replicas.join(",");
    state.lagPlot = plotLag(replicas, lagData, state.lagPlot);
  } else {
    state.lagPlot.setData(lagData);
  }
  if (state.sizeSeries !== groupNames.join(",") || !state.sizePlot) {
    state.sizeSeries = groupNames.join(",");
    state.sizePlot = plot("size-chart", groupNames, sizeData, "instances", state.sizePlot);
  } else {
    state.sizePlot.setData(sizeData);
  }
}

// ---------------------------------------------------------------- snapshot, events, ledger

function applySnapshot(snapshot) {
  performance.mark("snapshot-start");
  const lead = snapshot.leadership;
  document.getElementById("leader").textContent = lead ? (lead.leader ? "this coordinator leads"
    : "leader: " + (lead.holder ?? "none")) + (lead.epoch ? " (epoch " + lead.epoch + ")" : "") : "";
  state.groups = snapshot.groups.map((g) => g.name);
  renderGroups(snapshot.groups);
  renderInstances(snapshot.instances);
  renderBackends(snapshot.lbs);
  renderDb(snapshot.db);
  updateCharts(snapshot);
  performance.mark("snapshot-end");
  const measure = performance.measure("apply-snapshot", "snapshot-start", "snapshot-end");
  const stats = window.fleetvoteStats;
  stats.snapshots++;
  stats.lastSnapshotAt = snapshot.at;
  stats.applyMs.push(measure.duration);
  if (stats.applyMs.length > 1000) stats.applyMs.shift();
  performance.clearMarks();
  performance.clearMeasures();
}

function applyEvents(batch) {
  const list = document.getElementById("events");
  for (const e of batch.events) {
    const item = document.createElement("li");
    item.className = e.kind;
    item.textContent = time(e.at ?? batch.at) + "  " + e.text;
    list.prepend(item);
    if ((e.kind === "launch" || e.kind === "terminate") && e.at) {
      state.markers.push({ t: e.at / 1000, outcome: e.outcome, group: e.group });
    }
  }
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
  if (batch.events.some((e) => e.entry)) loadLedger();
}

async function loadLedger() {
  const group = document.getElementById("ledger-group").value;
  const outcome = document.getElementById("ledger-outcome").value;
  const query = new URLSearchParams({ limit: "100" });
  if (outcome) query.set("outcome", outcome);
  const path = group ? "/api/groups/" + encodeURIComponent(group) + "/decisions?" + query : "/api/decisions?" + query;
  let ledger;
  try {
    ledger = await api(path);
  } catch (e) {
    return;
  }
  const entries = ledger.entries || [];
  for (const e of entries) {
    if (e.action && !state.markers.some((m) => m.entry === e.id)) {
      state.markers.push({ t: e.at / 1000, outcome: e.decision.outcome, group: e.decision.group, entry: e.id });
    }
  }
  document.querySelector("#ledger tbody").innerHTML = entries.map((e) => `<tr data-entry="${esc(e.id)}"
    data-outcome="${esc(e.decision.outcome)}"><td>${time(e.lastAt)}${e.repeated > 1 ? " (x" + e.repeated + ")" : ""}</td>
    <td>${esc(e.id)}</td><td>${esc(e.decision.group)}</td><td class="${esc(e.decision.outcome)}">${esc(e.decision.outcome)}</td>
    <td>${esc(e.decision.rule)}</td><td class="why">${esc(e.decision.reason)}</td>
    <td>${e.action ? esc(e.action.kind + " " + e.action.status + " " + (e.action.instances || []).join(" ")) : ""}</td>
    </tr>`).join("");
}

async function main() {
  state.me = await api("/api/me");
  document.getElementById("who").textContent = state.me.name + " (" + state.me.role + ")";
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/api/logout", { method: "POST", credentials: "same-origin" });
    location.href = "/login.html";
  });
  document.body.addEventListener("click", onAction);
  document.getElementById("ledger-group").addEventListener("change", loadLedger);
  document.getElementById("ledger-outcome").addEventListener("change", loadLedger);
  const link = document.getElementById("link");
  const bus = new FleetBus("/eventbus", (s) => {
    link.textContent = s;
    link.className = "pill " + s;
  });
  window.fleetvoteStats.bus = bus;
  bus.on("fleetvote.ui.snapshot", applySnapshot);
  bus.on("fleetvote.ui.events", applyEvents);
  loadLedger();
}

main();
