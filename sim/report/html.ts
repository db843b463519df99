// report.html: one self-contained page per run (or per --compare pair). It works offline: the
// vega runtime is read from node_modules/vega/build/vega.min.js (next to its entry module) and inlined, the plots are a
// vega specification compiled here (spec.ts), the data are the compact display data (data.ts).
// The tables (expectations, energy balance, markers, loop health, warnings) are plain HTML, so
// they read even where scripts are off.
//
// Used by the simulator CLI (sim/cli.ts) and meant for the HIL bench: build a ReportRun per run
// and call reportHtml([run]) or reportHtml([simulator, bench]).
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { MAX_BUCKETS, runData, statesFor, type ReportRun, type RunData } from "./data"
import { vegaSpec } from "./spec"

const require = createRequire(import.meta.url)
let vegaJs: string | undefined
/** The vega runtime as shipped in its npm package (read once). */
function vegaRuntime(): string {
    vegaJs ??= readFileSync(join(dirname(require.resolve("vega")), "vega.min.js"), "utf8")
    return vegaJs
}
const pageJs = () => readFileSync(join(dirname(fileURLToPath(import.meta.url)), "page.js"), "utf8")

const esc = (s: unknown) =>
    String(s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)
/** Text that may sit inside a <script> element: no "</script", no "<!--". */
const scriptSafe = (s: string) => s.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--")
/** JSON inside <script type="application/json">: "<" escaped, so no tag can end it. */
const jsonSafe = (x: unknown) => JSON.stringify(x).replace(/</g, "\\u003c")
const fmt = (x: unknown, d = 1) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "–")

function table(head: string[], rows: string[][], cls = ""): string {
    return `<table class="${cls}"><thead><tr>${head.map(h => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
        .map(r => `<tr>${r.join("")}</tr>`)
        .join("")}</tbody></table>`
}
const td = (s: unknown, cls = "") => `<td class="${cls}">${esc(s)}</td>`
const badge = (pass: boolean) => `<td class="${pass ? "pass" : "fail"}">${pass ? "PASS" : "FAIL"}</td>`

function expectationTable(runs: ReportRun[], data: RunData[]): string {
    const n = Math.max(...data.map(d => d.expectations.length))
    if (n === 0) return "<p>This scenario has no expectations.</p>"
    const head = ["#", "expectation", "window (s)"]
    for (const r of runs) head.push(runs.length > 1 ? `${r.label}` : "result", runs.length > 1 ? `${r.label}: detail` : "detail")
    const rows: string[][] = []
    for (let i = 0; i < n; i++) {
        const e0 = data[0].expectations[i] ?? data[1]?.expectations[i]
        const row = [td(i + 1), td(e0.name), td(`${fmt(e0.fromS, 2)} – ${fmt(e0.toS, 2)}`, "num")]
        for (const d of data) {
            const e = d.expectations[i]
            row.push(e ? badge(e.pass) : td("–"), td(e ? e.detail : ""))
        }
        rows.push(row)
    }
    return table(head, rows, "expectations")
}

function energyTable(runs: ReportRun[]): string {
    const lines: [string, (r: ReportRun) => number][] = [
        ["PV produced", r => r.summary.energy_wh.pv],
        ["grid import", r => r.summary.energy_wh.grid_import],
        ["inverter discharge (to the home)", r => r.summary.energy_wh.inverter_discharge],
        ["house consumed", r => r.summary.energy_wh.house],
        ["grid export", r => r.summary.energy_wh.grid_export],
        ["inverter charge (from the home)", r => r.summary.energy_wh.inverter_charge],
        [
            "site residual: PV + import + discharge − house − export − charge",
            r => {
                const e = r.summary.energy_wh
                return e.pv + e.grid_import + e.inverter_discharge - e.house - e.grid_export - e.inverter_charge
            },
        ],
    ]
    const outlets = Math.max(...runs.map(r => r.scenario.config.outlets.count))
    for (let n = 1; n <= outlets; n++)
        lines.push([`outlet ${n} (from the traction battery)`, r => (r.summary.energy_wh as Record<string, number>)[`outlet${n}`] ?? NaN])
    const rows = lines.map(([name, f]) => [td(name), ...runs.map(r => td(fmt(f(r), 1), "num"))])
    rows.push([td("SoC start → end (%)"), ...runs.map(r => td(`${fmt(r.summary.soc_pct.start, 2)} → ${fmt(r.summary.soc_pct.end, 2)}`, "num"))])
    const head = ["energy (Wh, integrated from the trace)", ...runs.map(r => (runs.length > 1 ? r.label : "Wh"))]
    return (
        table(head, rows, "energy") +
        `<p class="note">The residual is what the site balance does not explain: unserved load while islanded, and the
        sampling of the trace (every ${esc(runs[0].scenario.traceIntervalMs)} ms).</p>`
    )
}

/** Loop health as the summary reports it (issue 11 adds it); any shape, flattened to key/value rows. */
function flatten(x: unknown, prefix: string, out: [string, string][]) {
    if (x !== null && typeof x === "object" && !Array.isArray(x)) {
        for (const [k, v] of Object.entries(x as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
    } else out.push([prefix, Array.isArray(x) ? JSON.stringify(x) : String(x)])
}

function loopHealth(runs: ReportRun[]): string {
    return runs
        .map(r => {
            const lh = r.summary.loop_health
            const title = runs.length > 1 ? `<h3>${esc(r.label)}</h3>` : ""
            if (lh === undefined || lh === null) return `${title}<p class="missing">Loop health: not reported by this run.</p>`
            const rows: [string, string][] = []
            flatten(lh, "", rows)
            return title + table(["figure", "value"], rows.map(([k, v]) => [td(k), td(v, "num")]), "health")
        })
        .join("")
}

const MAX_MARKER_ROWS = 300

function markerTable(runs: ReportRun[]): string {
    const all = runs.flatMap(r => r.markers.map(m => ({ ...m, run: r.label }))).sort((a, b) => a.tS - b.tS)
    if (all.length === 0) return "<p>No trips, faults, commands or restarts.</p>"
    const shown = all.slice(0, MAX_MARKER_ROWS)
    const rows = shown.map(m => [td(fmt(m.tS, 3), "num"), `<td class="k-${m.kind}">${esc(m.kind)}</td>`, td(m.text), ...(runs.length > 1 ? [td(m.run)] : [])])
    const more = all.length > shown.length ? `<p class="note">… and ${all.length - shown.length} more (all are on the plots).</p>` : ""
    return table(["t (s)", "kind", "what", ...(runs.length > 1 ? ["run"] : [])], rows, "markers") + more
}

function facts(runs: ReportRun[], data: RunData[]): string {
    const rows: string[][] = []
    const line = (name: string, f: (r: ReportRun, d: RunData) => unknown) => rows.push([td(name), ...runs.map((r, i) => td(f(r, data[i]), "num"))])
    line("result", r => (r.summary.passed ? "all expectations passed" : "an expectation FAILED"))
    line("simulated (s)", r => r.summary.duration_s)
    line("trace samples", r => r.summary.samples)
    line("points drawn (after min/max downsampling)", (_, d) =>
        Object.values(d.series).reduce((a, p) => a + Object.values(p).reduce((b, [t]) => b + t.length, 0), 0),
    )
    line("trips", r => r.summary.trips.length)
    line("rejected commands", r => r.summary.rejected_commands.length)
    line("wall time (s)", r => r.summary.wall_s)
    line("real-time factor", r => r.summary.real_time_factor)
    line("seed", r => r.summary.seed)
    return table(["run", ...runs.map(r => r.label)], rows, "facts")
}

/** The page for one run, or two runs on the same axes (simulator and bench). */
export function reportHtml(runs: ReportRun[]): string {
    if (runs.length < 1 || runs.length > 2) throw new Error(`reportHtml: one or two runs, got ${runs.length}`)
    if (runs.length === 2 && runs[0].label === runs[1].label) throw new Error(`reportHtml: the two runs need different labels (both ${JSON.stringify(runs[0].label)})`)
    const data = runs.map(r => runData(r))
    const s = runs[0].scenario
    const durationS = Math.max(...runs.map(r => r.scenario.durationS))
    const pre = (label: string) => (runs.length > 1 ? label + ": " : "")
    const spec = vegaSpec({
        durationS,
        labels: runs.map(r => r.label),
        outletCount: Math.max(...runs.map(r => r.scenario.config.outlets.count)),
        stateRows: runs.flatMap(r => statesFor(r.scenario.config.outlets.count).map(d => pre(r.label) + d.label)),
        expectationRows: data.flatMap(d => d.expectations.map((e, i) => pre(d.label) + (i + 1) + ". " + e.name)),
    })
    const passed = runs.every(r => r.summary.passed)
    const title = `${s.name}${runs.length > 1 ? ` — ${runs.map(r => r.label).join(" vs ")}` : ""}`
    const warnings = runs.flatMap(r => r.summary.warnings.map(w => `${pre(r.label)}${w}`))
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.2em 2em;color:#222;max-width:1300px}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd}
.verdict{display:inline-block;padding:.1em .6em;border-radius:4px;color:#fff;font-weight:600}
.verdict.pass{background:#2ca02c}.verdict.fail{background:#d62728}
table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.pass{color:#1a7a1a;font-weight:600}td.fail{color:#c00;font-weight:600}
.note,.missing{color:#555;font-size:.92em}.missing{font-style:italic}
.k-trip{color:#d62728}.k-fault{color:#ff7f0e}.k-command{color:#1f77b4}.k-rejected{color:#8c564b}.k-restart{color:#9467bd}
#plots{margin-top:.5em}.warn{color:#a60}
</style></head><body>
<h1>${esc(title)}</h1>
<p><span class="verdict ${passed ? "pass" : "fail"}">${passed ? "PASS" : "FAIL"}</span>
${esc(s.file)} · ${esc(durationS)} s simulated · trace every ${esc(s.traceIntervalMs)} ms</p>
${s.description ? `<p>${esc(s.description)}</p>` : ""}
${warnings.length ? `<ul class="warn">${warnings.map(w => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}
<h2>Plots</h2>
<p class="note">Drag across the overview strip to zoom all panels to a time range; double-click it to reset. Hover a panel
for the values at that time, a marker for what happened. Markers: <span class="k-trip">trip</span>, <span class="k-fault">fault</span>,
<span class="k-command">command</span>, <span class="k-rejected">rejected command</span>, <span class="k-restart">restart</span>.
Shaded: the windows of the expectations on that panel's columns (green pass, red fail).
Long traces are downsampled for display to the minimum and maximum of each of ${MAX_BUCKETS} time buckets, so short peaks stay visible.</p>
<noscript><p class="missing">The plots need JavaScript; the tables below do not.</p></noscript>
<div id="plots"></div>
<h2>Expectations</h2>
${expectationTable(runs, data)}
<h2>Energy balance</h2>
${energyTable(runs)}
<h2>Loop health</h2>
${loopHealth(runs)}
<h2>Trips, faults, commands and restarts</h2>
${markerTable(runs)}
<h2>Run</h2>
${facts(runs, data)}
<script type="application/json" id="report-data">${jsonSafe({ durationS, runs: data })}</script>
<script type="application/json" id="report-spec">${jsonSafe(spec)}</script>
<script>${scriptSafe(vegaRuntime())}</script>
<script>${scriptSafe(pageJs())}</script>
</body></html>
`
}

export { runMarkers, type ReportRun, type Marker } from "./data"
