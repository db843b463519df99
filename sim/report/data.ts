// What a report shows of a run, reduced to a size a browser page can carry. Pure functions of the
// trace rows, the summary and the run's events; nothing here knows about HTML or vega.
//
// Downsampling (display only; trace.csv keeps every sample): a numeric series longer than
// 2 x MAX_BUCKETS samples is cut into MAX_BUCKETS equal time buckets and each bucket keeps its
// minimum and its maximum sample (in time order), plus the first and last sample of the run. A
// spike of one sample (an inrush, a trip's last overload sample) therefore stays visible at any
// zoom, which a mean or an every-n-th pick would hide. State columns (V2H state, reasons, on/off)
// become intervals of constant value over the FULL trace: every change is kept. Only a column
// changing more than MAX_SEGMENTS times is thinned, by merging intervals shorter than one bucket
// into a "several" interval that says how many changes it holds. Trips, faults, commands and
// restarts are separate markers and are never thinned.
import type { Expectation, Scenario } from "../scenario/types"
import type { ExpectationResult, Summary, TraceRow } from "../trace"
import type { FirmwareEvent, Trip } from "../engine"

export const MAX_BUCKETS = 1000
export const MAX_SEGMENTS = 2000

export interface SeriesDef {
    column: keyof TraceRow
    label: string
    decimals: number
}

export interface PanelDef {
    name: string
    title: string
    unit: string
    series: SeriesDef[]
}

/** Numeric panels of the report, top to bottom (the outlets' series: panelsFor). */
export const PANELS: PanelDef[] = [
    {
        name: "power",
        title: "Power",
        unit: "W",
        series: [
            { column: "inverter_w", label: "inverter (+ discharge)", decimals: 0 },
            { column: "v2h_target_w", label: "V2H target", decimals: 0 },
            { column: "grid_w", label: "grid (+ import)", decimals: 0 },
            { column: "house_w", label: "house", decimals: 0 },
            { column: "pv_w", label: "PV", decimals: 0 },
            { column: "unserved_w", label: "unserved", decimals: 0 },
        ],
    },
    { name: "soc", title: "State of charge", unit: "%", series: [{ column: "soc_pct", label: "SoC", decimals: 3 }] },
    {
        name: "thermal",
        title: "Outlet thermal level and load ratio",
        unit: "ratio",
        series: [
            { column: "thermal_level", label: "thermal level", decimals: 3 },
            { column: "load_ratio", label: "load ratio", decimals: 3 },
        ],
    },
    { name: "temp", title: "Inverter temperature", unit: "°C", series: [{ column: "temp_c", label: "inverter", decimals: 1 }] },
]

const outletNumbers = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

/** The panels for a configuration with `outletCount` outlets (outlet N's power in the power panel). */
export function panelsFor(outletCount: number): PanelDef[] {
    return PANELS.map(p =>
        p.name !== "power"
            ? p
            : { ...p, series: [...p.series, ...outletNumbers(outletCount).map(n => ({ column: `outlet${n}_w` as keyof TraceRow, label: `outlet ${n}`, decimals: 0 }))] },
    )
}

export interface StateDef {
    column: keyof TraceRow
    label: string
    /** 0/1 columns: the names of 0 and 1. */
    names?: [string, string]
}

/** State rows of the timeline panel after the outlets' (statesFor), top to bottom. */
export const STATES: StateDef[] = [
    { column: "alarm", label: "outlet alarm" },
    { column: "state", label: "V2H state" },
    { column: "v2h_mode", label: "V2H mode" },
    { column: "limit_reason", label: "limit reason" },
    { column: "fault", label: "V2H fault" },
    { column: "contactor_closed", label: "contactor", names: ["open", "closed"] },
    { column: "grid_relay_closed", label: "grid relay", names: ["open", "closed"] },
    { column: "grid_up", label: "grid", names: ["down", "up"] },
    { column: "injected_faults", label: "injected faults" },
]

/** The state rows for `outletCount` outlets: on/off and reason per outlet, then STATES. */
export function statesFor(outletCount: number): StateDef[] {
    const outlets = outletNumbers(outletCount).flatMap((n): StateDef[] => [
        { column: `outlet${n}_on` as keyof TraceRow, label: `outlet ${n}`, names: ["off", "on"] },
        { column: `outlet${n}_reason` as keyof TraceRow, label: `outlet ${n} reason` },
    ])
    return [...outlets, ...STATES]
}

export type MarkerKind = "trip" | "fault" | "command" | "rejected" | "restart"
export const MARKER_KINDS: MarkerKind[] = ["trip", "fault", "command", "rejected", "restart"]

export interface Marker {
    tS: number
    kind: MarkerKind
    text: string
}

/** One run as the report builder takes it: the simulator's, or the bench's. */
export interface ReportRun {
    /** "simulator", "bench", ...: distinguishes two runs on the same axes. */
    label: string
    scenario: Scenario
    rows: TraceRow[]
    summary: Summary & { loop_health?: unknown }
    markers: Marker[]
}

/** The markers of a simulator run: trips, fault events, the scenario's commands and restarts. */
export function runMarkers(
    scenario: Scenario,
    run: { trips: Trip[]; rejected: { tS: number; message: string }[]; firmwareEvents: FirmwareEvent[]; warnings: string[] },
): Marker[] {
    const out: Marker[] = []
    for (const t of run.trips) out.push({ tS: t.tS, kind: "trip", text: `outlet ${t.outlet} tripped: ${t.reason}` })
    for (const e of run.firmwareEvents) if (e.kind === "fault") out.push({ tS: e.tS, kind: "fault", text: `V2H fault: ${e.value}` })
    for (const r of run.rejected) out.push({ tS: r.tS, kind: "rejected", text: `command rejected: ${r.message}` })
    for (const ev of scenario.events) {
        if (ev.kind === "hems") out.push({ tS: ev.atS, kind: "command", text: `HEMS command ${ev.json}` })
        else if (ev.kind === "reset_faults") out.push({ tS: ev.atS, kind: "command", text: "clear faults (local)" })
        else if (ev.kind === "outlet_switch") out.push({ tS: ev.atS, kind: "command", text: `outlet main switch ${ev.on ? "on" : "off"}` })
        else if (ev.kind === "firmware_restart") out.push({ tS: ev.atS, kind: "restart", text: "firmware restart (scenario)" })
        else if (ev.kind === "fault") out.push({ tS: ev.atS, kind: "fault", text: `${ev.active ? "injected" : "cleared"}: ${ev.fault}` })
    }
    for (const w of run.warnings) {
        const m = /^firmware panic (\S+) at ([\d.]+) s/.exec(w)
        if (m) out.push({ tS: Number(m[2]), kind: "restart", text: `firmware panic ${m[1]}: restarted` })
    }
    return out.sort((a, b) => a.tS - b.tS)
}

/** A time window [fromS, toS] an expectation looks at. */
export function expectationWindow(e: Expectation, durationS: number): { fromS: number; toS: number; column?: string } {
    switch (e.kind) {
        case "reaches":
            return { fromS: 0, toS: Math.min(e.byS, durationS), column: e.column }
        case "trip":
        case "no_trip":
            return { fromS: e.fromS, toS: e.toS, column: e.kind === "trip" ? `outlet${e.outlet}_on` : undefined }
        default:
            return { fromS: e.fromS, toS: e.toS, column: e.column }
    }
}

// ---------------------------------------------------------------------------------------------
// Downsampling
// ---------------------------------------------------------------------------------------------

const roundTo = (x: number, d: number) => {
    const p = 10 ** d
    const r = Math.round(x * p) / p
    return r === 0 ? 0 : r
}

/** Indices of the rows kept for one numeric column: all, or per bucket its min and its max. */
export function minMaxIndices(t: number[], v: number[], buckets = MAX_BUCKETS): number[] {
    const n = t.length
    if (n <= 2 * buckets) return t.map((_, i) => i)
    const t0 = t[0]
    const span = t[n - 1] - t0 || 1
    const out: number[] = [0]
    let i = 0
    for (let b = 0; b < buckets; b++) {
        const end = b === buckets - 1 ? n : (() => {
            const limit = t0 + (span * (b + 1)) / buckets
            let j = i
            while (j < n && t[j] < limit) j++
            return j
        })()
        if (end > i) {
            let lo = i
            let hi = i
            for (let j = i + 1; j < end; j++) {
                if (v[j] < v[lo]) lo = j
                if (v[j] > v[hi]) hi = j
            }
            for (const k of lo <= hi ? [lo, hi] : [hi, lo]) if (k !== out[out.length - 1]) out.push(k)
        }
        i = end
    }
    if (out[out.length - 1] !== n - 1) out.push(n - 1)
    return out
}

export interface Segment {
    from: number
    to: number
    value: string
}

/** Intervals of constant value; more than maxSegments -> short ones merged into "several (n changes)". */
export function segments(t: number[], v: string[], endS: number, maxSegments = MAX_SEGMENTS, buckets = MAX_BUCKETS): Segment[] {
    const segs: Segment[] = []
    for (let i = 0; i < t.length; i++) {
        const last = segs[segs.length - 1]
        if (last && last.value === v[i]) continue
        if (last) last.to = t[i]
        segs.push({ from: t[i], to: endS, value: v[i] })
    }
    if (segs.length <= maxSegments) return segs
    const minS = (endS - (t[0] ?? 0)) / buckets
    const out: Segment[] = []
    let merged: { from: number; to: number; n: number } | undefined
    const flush = () => {
        if (merged) out.push({ from: merged.from, to: merged.to, value: `several (${merged.n} changes)` })
        merged = undefined
    }
    for (const s of segs) {
        if (s.to - s.from >= minS) {
            flush()
            out.push(s)
        } else if (merged) {
            merged.to = s.to
            merged.n++
        } else merged = { from: s.from, to: s.to, n: 1 }
    }
    flush()
    return out
}

/** Compact, column-wise display data of one run (what the page expands for vega). */
export interface RunData {
    label: string
    /** panel name -> series label -> [t_s[], value[]] */
    series: Record<string, Record<string, [number[], number[]]>>
    /** state row label -> segments */
    states: Record<string, Segment[]>
    /** A uniform probe per bucket for the hover read-out: t_s[] and, per panel, per series, value[]. */
    probe: { t: number[]; values: Record<string, Record<string, number[]>> }
    markers: Marker[]
    expectations: { name: string; pass: boolean; detail: string; fromS: number; toS: number; panel: string }[]
    sourceSamples: number
}

const stateText = (d: StateDef, x: number | string) => {
    if (d.names) return d.names[Number(x) ? 1 : 0]
    const s = String(x)
    return s === "" ? "(no status)" : s
}

/** Which panel an expectation's column is drawn in. */
function panelOf(column: string | undefined, panels: PanelDef[]): string {
    if (!column) return "states"
    for (const p of panels) if (p.series.some(s => s.column === column)) return p.name
    return "states"
}

export function runData(r: ReportRun, buckets = MAX_BUCKETS): RunData {
    const rows = r.rows
    const t = rows.map(x => Number(x.t_s))
    const endS = Math.max(r.scenario.durationS, t[t.length - 1] ?? 0)
    const n = r.scenario.config.outlets.count
    const panels = panelsFor(n)
    const series: RunData["series"] = {}
    for (const p of panels) {
        series[p.name] = {}
        for (const s of p.series) {
            const v = rows.map(x => Number(x[s.column]))
            const idx = minMaxIndices(t, v, buckets)
            series[p.name][s.label] = [idx.map(i => roundTo(t[i], 3)), idx.map(i => roundTo(v[i], s.decimals))]
        }
    }
    const states: RunData["states"] = {}
    for (const d of statesFor(n)) {
        const segs = segments(t, rows.map(x => stateText(d, x[d.column])), endS, MAX_SEGMENTS, buckets)
        states[d.label] = segs.map(s => ({ from: roundTo(s.from, 3), to: roundTo(s.to, 3), value: s.value }))
    }
    // Probe: the sample nearest each bucket start (at most `buckets` of them).
    const step = Math.max(1, Math.ceil(rows.length / buckets))
    const pi: number[] = []
    for (let i = 0; i < rows.length; i += step) pi.push(i)
    const probe: RunData["probe"] = { t: pi.map(i => roundTo(t[i], 3)), values: {} }
    for (const p of panels) {
        probe.values[p.name] = {}
        for (const s of p.series) probe.values[p.name][s.label] = pi.map(i => roundTo(Number(rows[i][s.column]), s.decimals))
    }
    const results: ExpectationResult[] = r.summary.expectations
    const expectations = r.scenario.expectations.map((e, i) => {
        const w = expectationWindow(e, r.scenario.durationS)
        const res = results[i] ?? { name: e.name, pass: false, detail: "not evaluated" }
        return { name: res.name, pass: res.pass, detail: res.detail, fromS: w.fromS, toS: w.toS, panel: panelOf(w.column, panels) }
    })
    return { label: r.label, series, states, probe, markers: r.markers, expectations, sourceSamples: rows.length }
}
