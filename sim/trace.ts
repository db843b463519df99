// Trace rows, their CSV form, the run summary and the scenario's expectations.
// Numbers are written with fixed decimals so that the same run gives a byte-identical file.
import type { Expectation, Scenario } from "./scenario/types"
import { traceColumns, type TraceColumn } from "./scenario/types"

/** One sample: every column of the run's configuration (outlet<N>_* for its configured outlets). */
export type TraceRow = Partial<Record<TraceColumn, number | string>> & { t_s: number }

/** Decimals per numeric column (others are strings or 0/1 flags). */
const DECIMALS: Partial<Record<TraceColumn, number>> = {
    t_s: 3,
    soc_pct: 4,
    thermal_level: 4,
    load_ratio: 4,
    v2h_request_w: 1,
    v2h_command_w: 1,
    inverter_w: 1,
    house_w: 1,
    pv_w: 1,
    grid_w: 1,
    temp_c: 2,
    v2h_target_w: 1,
    unserved_w: 1,
}

/** Outlet powers (outlet<N>_demand_w, outlet<N>_w): 1 decimal. */
const decimals = (col: TraceColumn) => DECIMALS[col] ?? (/^outlet\d+_(demand_)?w$/.test(col) ? 1 : undefined)

function cell(col: TraceColumn, v: number | string | undefined): string {
    if (v === undefined) return ""
    if (typeof v === "string") return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
    const d = decimals(col)
    const s = d === undefined ? String(v) : v.toFixed(d)
    return s === "-0" || /^-0\.0*$/.test(s) ? s.slice(1) : s
}

/** The trace's columns for `outletCount` outlets (the run's config outlets.count). */
export function toCsv(rows: TraceRow[], outletCount: number): string {
    const columns = traceColumns(outletCount)
    const lines = [columns.join(",")]
    for (const r of rows) lines.push(columns.map(c => cell(c, r[c])).join(","))
    return lines.join("\n") + "\n"
}

export interface ExpectationResult {
    name: string
    pass: boolean
    detail: string
}

function window(rows: TraceRow[], fromS: number, toS: number): TraceRow[] {
    return rows.filter(r => (r.t_s as number) >= fromS - 1e-9 && (r.t_s as number) <= toS + 1e-9)
}

export function checkExpectation(e: Expectation, rows: TraceRow[], trips: { tS: number; outlet: number; reason: string }[]): ExpectationResult {
    const res = (pass: boolean, detail: string) => ({ name: e.name, pass, detail })
    switch (e.kind) {
        case "max_le": {
            const w = window(rows, e.fromS, e.toS)
            const max = Math.max(...w.map(r => Number(r[e.column])))
            return res(w.length > 0 && max <= e.max, `max ${e.column} = ${max} over ${e.fromS}..${e.toS} s`)
        }
        case "min_ge": {
            const w = window(rows, e.fromS, e.toS)
            const min = Math.min(...w.map(r => Number(r[e.column])))
            return res(w.length > 0 && min >= e.min, `min ${e.column} = ${min} over ${e.fromS}..${e.toS} s`)
        }
        case "always_eq": {
            const w = window(rows, e.fromS, e.toS)
            const bad = w.find(r => r[e.column] !== e.value)
            return res(w.length > 0 && !bad, bad ? `${e.column} = ${bad[e.column]} at ${bad.t_s} s` : `${w.length} samples`)
        }
        case "final_eq": {
            const w = window(rows, e.fromS, e.toS)
            const last = w[w.length - 1]
            return res(!!last && last[e.column] === e.value, last ? `${e.column} = ${last[e.column]} at ${last.t_s} s` : "no sample")
        }
        case "mean_between": {
            const w = window(rows, e.fromS, e.toS)
            const mean = w.reduce((a, r) => a + Number(r[e.column]), 0) / Math.max(1, w.length)
            return res(w.length > 0 && mean >= e.lo && mean <= e.hi, `mean ${e.column} = ${mean.toFixed(3)}`)
        }
        case "reaches": {
            const hit = rows.find(r => (r.t_s as number) <= e.byS + 1e-9 && r[e.column] === e.value)
            return res(!!hit, hit ? `at ${hit.t_s} s` : `not by ${e.byS} s`)
        }
        case "trip": {
            const t = trips.find(t => t.outlet === e.outlet && t.reason === e.reason && t.tS >= e.fromS && t.tS <= e.toS)
            const all = trips.map(t => `${t.outlet}:${t.reason}@${t.tS.toFixed(2)}s`).join(", ") || "none"
            return res(!!t, t ? `at ${t.tS.toFixed(3)} s` : `trips: ${all}`)
        }
        case "no_trip": {
            const t = trips.find(t => t.tS >= e.fromS && t.tS <= e.toS)
            return res(!t, t ? `outlet ${t.outlet} ${t.reason} at ${t.tS.toFixed(3)} s` : "none")
        }
    }
}

/** Energy (Wh) of a power column over the trace, positive and negative parts separately. */
function energyWh(rows: TraceRow[], col: TraceColumn, dtS: number): { posWh: number; negWh: number } {
    let pos = 0
    let neg = 0
    for (const r of rows) {
        const w = Number(r[col])
        if (w > 0) pos += (w * dtS) / 3600
        else neg -= (w * dtS) / 3600
    }
    return { posWh: pos, negWh: neg }
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d

export function summarize(
    scenario: Scenario,
    rows: TraceRow[],
    trips: { tS: number; outlet: number; reason: string }[],
    extra: { wallS: number; warnings: string[]; rejected: { tS: number; message: string }[]; loopHealth?: object },
) {
    const dtS = scenario.traceIntervalMs / 1000
    const e = (c: TraceColumn) => energyWh(rows, c, dtS)
    const max = (c: TraceColumn) => round(Math.max(...rows.map(r => Number(r[c]))))
    const outlets = Array.from({ length: scenario.config.outlets.count }, (_, i) => i + 1)
    const expectations = scenario.expectations.map(x => checkExpectation(x, rows, trips))
    return {
        scenario: scenario.name,
        file: scenario.file,
        duration_s: scenario.durationS,
        seed: scenario.seed,
        samples: rows.length,
        energy_wh: {
            ...Object.fromEntries(outlets.map(n => [`outlet${n}`, round(e(`outlet${n}_w`).posWh)])),
            inverter_discharge: round(e("inverter_w").posWh),
            inverter_charge: round(e("inverter_w").negWh),
            house: round(e("house_w").posWh),
            pv: round(e("pv_w").posWh),
            grid_import: round(e("grid_w").posWh),
            grid_export: round(e("grid_w").negWh),
        },
        soc_pct: { start: round(Number(rows[0]?.soc_pct), 4), end: round(Number(rows[rows.length - 1]?.soc_pct), 4) },
        trips: trips.map(t => ({ t_s: round(t.tS), outlet: t.outlet, reason: t.reason })),
        rejected_commands: extra.rejected.map(r => ({ t_s: round(r.tS), message: r.message })),
        maxima: {
            ...Object.fromEntries(outlets.map(n => [`outlet${n}_w`, max(`outlet${n}_w`)])),
            load_ratio: max("load_ratio"),
            thermal_level: max("thermal_level"),
            temp_c: max("temp_c"),
        },
        expectations,
        passed: expectations.every(x => x.pass),
        warnings: extra.warnings,
        // The firmware's own loops (v2h_status): worst lateness / run time of any boot, ms; overruns summed.
        loop_health: extra.loopHealth ?? null,
        wall_s: round(extra.wallS, 2),
        real_time_factor: round(scenario.durationS / extra.wallS, 1),
    }
}
export type Summary = ReturnType<typeof summarize>
