// `npm run hil -- ... --compare`: the same scenario in the simulator and on the bench, side by
// side: every expectation (pass and detail in each), every trip (paired by outlet and reason, in
// order), the command latency after each HEMS command (first change of the inverter command),
// and ramp timing (time until the inverter's output reaches 90 % of its new target), with the
// bench-minus-simulator differences.
import type { ExpectationResult, TraceRow } from "../sim/trace"
import type { Trip } from "../sim/engine"
import type { Scenario } from "../sim/scenario/types"

export interface Side {
    rows: TraceRow[]
    trips: Trip[]
    expectations: ExpectationResult[]
}

const r3 = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000)
const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : r3(b - a))

/** Seconds from atS until `col` first differs from its value at atS (null if it never does before untilS). */
export function firstChangeAfter(rows: TraceRow[], col: keyof TraceRow & string, atS: number, untilS: number): number | null {
    const at = rows.find(r => (r.t_s as number) >= atS - 1e-9)
    if (!at) return null
    for (const r of rows) {
        const t = r.t_s as number
        if (t <= atS + 1e-9) continue
        if (t > untilS) break
        if (r[col] !== at[col]) return t - atS
    }
    return null
}

/** Seconds from atS until the inverter's output reaches 90 % of the way to the command it settles at before untilS. */
export function rampTime(rows: TraceRow[], atS: number, untilS: number): { targetW: number; s: number | null } | null {
    const w = rows.filter(r => (r.t_s as number) >= atS - 1e-9 && (r.t_s as number) <= untilS + 1e-9)
    if (w.length < 2) return null
    const start = Number(w[0].inverter_w)
    const targetW = Number(w[w.length - 1].v2h_command_w)
    if (Math.abs(targetW - start) < 50) return { targetW, s: null }
    const goal = start + 0.9 * (targetW - start)
    const hit = w.find(r => (targetW > start ? Number(r.inverter_w) >= goal : Number(r.inverter_w) <= goal))
    return { targetW, s: hit ? (hit.t_s as number) - atS : null }
}

export function compareRuns(scenario: Scenario, sim: Side, bench: Side) {
    const expectations = sim.expectations.map((s, i) => {
        const b = bench.expectations.find(x => x.name === s.name) ?? bench.expectations[i]
        return { name: s.name, sim: { pass: s.pass, detail: s.detail }, bench: b ? { pass: b.pass, detail: b.detail } : null, same: !!b && b.pass === s.pass }
    })
    const trips: { outlet: number; reason: string; sim_s: number | null; bench_s: number | null; diff_s: number | null }[] = []
    const used = new Set<Trip>()
    for (const t of sim.trips) {
        const m = bench.trips.find(b => !used.has(b) && b.outlet === t.outlet && b.reason === t.reason)
        if (m) used.add(m)
        trips.push({ outlet: t.outlet, reason: t.reason, sim_s: r3(t.tS), bench_s: m ? r3(m.tS) : null, diff_s: m ? diff(t.tS, m.tS) : null })
    }
    for (const b of bench.trips) if (!used.has(b)) trips.push({ outlet: b.outlet, reason: b.reason, sim_s: null, bench_s: r3(b.tS), diff_s: null })

    const hems = scenario.events.filter(e => e.kind === "hems")
    const commands = hems.map((e, i) => {
        const until = hems[i + 1]?.atS ?? scenario.durationS
        const ls = firstChangeAfter(sim.rows, "v2h_command_w", e.atS, until)
        const lb = firstChangeAfter(bench.rows, "v2h_command_w", e.atS, until)
        const rs = rampTime(sim.rows, e.atS, until)
        const rb = rampTime(bench.rows, e.atS, until)
        return {
            at_s: e.atS,
            command: e.kind === "hems" ? e.json : "",
            latency_s: { sim: r3(ls), bench: r3(lb), diff: diff(ls, lb) },
            ramp_to_90pct_s: { target_w: rs?.targetW ?? null, sim: r3(rs?.s ?? null), bench: r3(rb?.s ?? null), diff: diff(rs?.s ?? null, rb?.s ?? null) },
        }
    })
    return {
        scenario: scenario.name,
        expectations,
        same_verdicts: expectations.every(e => e.same),
        trips,
        commands,
    }
}
export type Comparison = ReturnType<typeof compareRuns>

export function comparisonMarkdown(c: Comparison): string {
    const f = (x: number | null | undefined) => (x === null || x === undefined ? "-" : String(x))
    const lines = [`# ${c.scenario}: simulator vs bench`, "", "| expectation | simulator | bench | same |", "|---|---|---|---|"]
    for (const e of c.expectations)
        lines.push(`| ${e.name} | ${e.sim.pass ? "PASS" : "FAIL"} (${e.sim.detail}) | ${e.bench ? `${e.bench.pass ? "PASS" : "FAIL"} (${e.bench.detail})` : "-"} | ${e.same ? "yes" : "**no**"} |`)
    if (c.trips.length) {
        lines.push("", "| trip | simulator (s) | bench (s) | bench - sim (s) |", "|---|---|---|---|")
        for (const t of c.trips) lines.push(`| outlet ${t.outlet} ${t.reason} | ${f(t.sim_s)} | ${f(t.bench_s)} | ${f(t.diff_s)} |`)
    }
    if (c.commands.length) {
        lines.push("", "| HEMS command | latency sim / bench / diff (s) | ramp to 90 % sim / bench / diff (s) |", "|---|---|---|")
        for (const k of c.commands)
            lines.push(
                `| ${k.at_s} s \`${k.command}\` | ${f(k.latency_s.sim)} / ${f(k.latency_s.bench)} / ${f(k.latency_s.diff)} | ${f(k.ramp_to_90pct_s.sim)} / ${f(k.ramp_to_90pct_s.bench)} / ${f(k.ramp_to_90pct_s.diff)} |`,
            )
    }
    return lines.join("\n") + "\n"
}
