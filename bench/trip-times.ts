// npm run bench:trip-times
// Closed loop, the real firmware in the simulator: for every row of the trip table in devs.json
// (grid.overVoltage, underVoltage, overFrequency, underFrequency, and loss of grid), discharging
// 3 kW into a 4 kW house, the grid steps past that row's threshold (and no faster row's) at 10 s.
// Measured: the time from the excursion to the inverter's AC power below 5 % of its value before,
// beside the row's clearing time and the bound (clearing time + the grid meter's 250 ms report
// period). Traced every 10 ms (so figures are +0/-10 ms). Prints a Markdown table; exit 1 when a
// row is over its bound.
import { simulate } from "../sim/engine"
import { buildFirmware } from "../sim/firmware"
import { validateScenario } from "../sim/scenario/validate"
import { loadDevsConfig } from "../scripts/lib/devs-config"

const REPORT_PERIOD_MS = 250
const AT_S = 10
const cfg: any = loadDevsConfig()
const g = cfg.grid
const nomV = g.nominalVoltageV
type Row = { name: string; clearMs: number; grid: Record<string, unknown> }
const rows: Row[] = []
const sortedDesc = (xs: any[], k: string) => [...xs].sort((a, b) => b[k] - a[k])
// Each step lies just beyond its row (5 % of the way to the next-faster row or 5 % beyond).
sortedDesc(g.overVoltage, "pu").forEach((r: any, i: number, a: any[]) =>
    rows.push({ name: `OV ${r.pu} pu`, clearMs: r.clearMs, grid: { grid: "up", grid_v: Math.round(nomV * (i === 0 ? r.pu * 1.04 : (r.pu + a[i - 1].pu) / 2) * 10) / 10 } }),
)
sortedDesc(g.underVoltage, "pu").forEach((r: any, i: number, a: any[]) =>
    rows.push({ name: `UV ${r.pu} pu`, clearMs: r.clearMs, grid: { grid: "up", grid_v: Math.round(nomV * (i === a.length - 1 ? r.pu * 0.9 : (r.pu + a[i + 1].pu) / 2) * 10) / 10 } }),
)
sortedDesc(g.overFrequency, "hz").forEach((r: any, i: number, a: any[]) =>
    rows.push({ name: `OF ${r.hz} Hz`, clearMs: r.clearMs, grid: { grid: "up", grid_hz: i === 0 ? r.hz + 0.5 : (r.hz + a[i - 1].hz) / 2 } }),
)
sortedDesc(g.underFrequency, "hz").forEach((r: any, i: number, a: any[]) =>
    rows.push({ name: `UF ${r.hz} Hz`, clearMs: r.clearMs, grid: { grid: "up", grid_hz: i === a.length - 1 ? r.hz - 0.5 : (r.hz + a[i + 1].hz) / 2 } }),
)
// Loss of grid: unintentional islanding, cease to energize within 2 s (IEEE 1547-2018).
rows.push({ name: "loss of grid", clearMs: 2000, grid: { grid: "down" } })

const out: any[] = []
console.log("| trip row | grid step at 10 s | clearing time | bound (clearing + 250 ms) | measured: excursion -> inverter < 5 % | within |")
console.log("|---|---|---:|---:|---:|:---:|")
let bad = 0
for (const row of rows) {
    const sc = validateScenario(
        {
            name: `trip-${row.name}`,
            duration_s: AT_S + row.clearMs / 1000 + 5,
            trace_interval_ms: 10,
            initial: { soc_pct: 80, house_w: 4000 },
            // The HEMS keeps its setpoint alive (else the 60 s command timeout would stop the inverter first).
            events: [
                ...Array.from({ length: Math.ceil((AT_S + row.clearMs / 1000 + 5) / 30) }, (_, i) => ({ at_s: 2 + 30 * i, hems: { mode: "setpoint", setpoint_w: 3000 } })),
                { at_s: AT_S, ...row.grid },
            ],
        },
        "trip-times.json",
    )
    const run = await simulate(sc, { bytecode: await buildFirmware(sc.config) })
    const before = Number(run.rows.find(r => (r.t_s as number) >= AT_S - 0.011)!.inverter_w)
    const stop = run.rows.find(r => (r.t_s as number) > AT_S && Math.abs(Number(r.inverter_w)) < 0.05 * before)
    const ms = stop ? Math.round(((stop.t_s as number) - AT_S) * 1000) : NaN
    const bound = row.clearMs + REPORT_PERIOD_MS
    const ok = ms <= bound && before > 2900
    if (!ok) bad++
    const step = Object.entries(row.grid).filter(([k]) => k !== "grid").map(([k, v]) => `${k.replace("grid_", "")} ${v}`).join(", ") || "down"
    console.log(`| ${row.name} | ${step} | ${row.clearMs} ms | ${bound} ms | ${Number.isNaN(ms) ? "never" : ms + " ms"} (from ${before.toFixed(0)} W) | ${ok ? "yes" : "NO"} |`)
    out.push({ row: row.name, clearMs: row.clearMs, boundMs: bound, measuredMs: ms, beforeW: before })
}
process.exitCode = bad ? 1 : 0
