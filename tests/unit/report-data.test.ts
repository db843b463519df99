// The report's display data: min/max downsampling keeps one-sample peaks, state intervals keep
// every change, expectation windows come from the scenario, and a 24 h trace (bench/day-24h.json:
// 86,400 samples at 1 s) gives a page of sensible size.
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { MAX_BUCKETS, minMaxIndices, runData, segments, type ReportRun } from "../../sim/report/data"
import { reportHtml } from "../../sim/report/html"
import { loadScenario } from "../../sim/scenario/load"
import { summarize, type TraceRow } from "../../sim/trace"
import { traceColumns } from "../../sim/scenario/types"

/** Upper bound for a 24 h report (the vega runtime alone is ~0.5 MB). */
const DAY_PAGE_MAX_BYTES = 3_000_000

function syntheticRows(n: number, dtS: number, spikeAt: number): TraceRow[] {
    const rows: TraceRow[] = []
    for (let i = 0; i < n; i++) {
        const r: any = {}
        for (const c of traceColumns(2)) r[c] = 0
        r.t_s = i * dtS
        r.soc_pct = 85 - (i / n) * 40
        r.house_w = 350 + 100 * Math.sin(i / 500)
        r.inverter_w = i === spikeAt ? 5999 : 300
        r.outlet1_w = i % 1800 < 1 ? 600 : 120
        r.state = i > n / 2 ? "discharging" : "idle"
        r.outlet1_reason = i === spikeAt ? "overload_instant" : "ok"
        r.outlet1_on = 1
        r.limit_reason = "none"
        rows.push(r as TraceRow)
    }
    return rows
}

describe("report display data", () => {
    it("min/max per bucket keeps a one-sample spike and the ends, and bounds the points", () => {
        const n = 86_400
        const t = Array.from({ length: n }, (_, i) => i)
        const v = t.map(i => (i === 40_001 ? 9000 : i === 70_000 ? -9000 : 100))
        const idx = minMaxIndices(t, v)
        expect(idx.length).toBeLessThanOrEqual(2 * MAX_BUCKETS + 2)
        expect(idx).toContain(40_001)
        expect(idx).toContain(70_000)
        expect(idx[0]).toBe(0)
        expect(idx[idx.length - 1]).toBe(n - 1)
        expect([...idx].sort((a, b) => a - b)).toEqual(idx) // in time order
        expect(minMaxIndices([0, 1, 2], [5, 6, 7])).toEqual([0, 1, 2]) // short traces: every sample
    })

    it("state intervals keep every change; too many changes are merged and say how many", () => {
        expect(segments([0, 1, 2, 3], ["a", "a", "b", "a"], 4)).toEqual([
            { from: 0, to: 2, value: "a" },
            { from: 2, to: 3, value: "b" },
            { from: 3, to: 4, value: "a" },
        ])
        const t = Array.from({ length: 1000 }, (_, i) => i)
        const flicker = t.map(i => (i < 500 ? (i % 2 ? "x" : "y") : "z"))
        const segs = segments(t, flicker, 1000, 100, 50)
        expect(segs.length).toBeLessThan(10)
        expect(segs[0].value).toMatch(/^several \(\d+ changes\)$/)
        expect(segs[segs.length - 1]).toEqual({ from: 500, to: 1000, value: "z" })
    })

    it("a 24 h trace: the page stays small, the trip spike and the state change are in it", () => {
        const scenario = loadScenario(join(ROOT, "bench", "day-24h.json"))
        const rows = syntheticRows(86_401, 1, 50_000)
        const trips = [{ tS: 50_000, outlet: 1, reason: "overload_instant" }]
        const summary = summarize(scenario, rows, trips, { wallS: 300, warnings: [], rejected: [] })
        const run: ReportRun = { label: "simulator", scenario, rows, summary, markers: [{ tS: 50_000, kind: "trip", text: "outlet 1 tripped" }] }
        const d = runData(run)
        const [pt, pv] = d.series.power["inverter (+ discharge)"]
        expect(pv[pt.indexOf(50_000)]).toBe(5999)
        expect(d.states["outlet 1 reason"].some(s => s.value === "overload_instant" && s.from === 50_000)).toBe(true)
        expect(d.states["V2H state"].map(s => s.value)).toEqual(["idle", "discharging"])
        expect(d.expectations.length).toBe(scenario.expectations.length)
        const html = reportHtml([run])
        console.log(`24 h report: ${(html.length / 1e6).toFixed(2)} MB for ${rows.length} samples`)
        expect(html.length).toBeLessThan(DAY_PAGE_MAX_BYTES)
    })
})
