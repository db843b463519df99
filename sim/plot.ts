// plot.svg: powers, SoC and outlet state over time, rendered headless with vega-lite.
import * as vega from "vega"
import * as vl from "vega-lite"
import type { TraceRow } from "./trace"

const MAX_POINTS = 2000

/** `outletCount`: the run's config outlets.count (one power and one on/off series per outlet). */
export async function plotSvg(title: string, rows: TraceRow[], outletCount: number): Promise<string> {
    const every = Math.max(1, Math.ceil(rows.length / MAX_POINTS))
    const pick = rows.filter((_, i) => i % every === 0 || i === rows.length - 1)
    const outlets = Array.from({ length: outletCount }, (_, i) => i + 1)
    const long: object[] = []
    for (const r of pick) {
        for (const c of [...outlets.map(n => `outlet${n}_w` as const), "inverter_w", "house_w", "pv_w", "grid_w"] as const)
            long.push({ t_s: r.t_s, series: c, value: r[c] })
    }
    const state: object[] = []
    for (const r of pick) {
        // Offset by 0.02 per outlet so that equal states stay visible apart.
        for (const n of outlets) state.push({ t_s: r.t_s, series: `outlet${n}_on`, value: n === 1 ? r.outlet1_on : Number(r[`outlet${n}_on`]) + 0.02 * (n - 1) })
        state.push({ t_s: r.t_s, series: "thermal_level", value: r.thermal_level })
        state.push({ t_s: r.t_s, series: "alarm", value: r.alarm === "none" || r.alarm === "" ? 0 : 1 })
    }
    const x = { field: "t_s", type: "quantitative" as const, title: "time (s)" }
    const spec: vl.TopLevelSpec = {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        title,
        resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
        vconcat: [
            {
                width: 900,
                height: 220,
                data: { values: long },
                mark: { type: "line", interpolate: "step-after", strokeWidth: 1.2 },
                encoding: {
                    x,
                    y: { field: "value", type: "quantitative", title: "power (W)" },
                    color: { field: "series", type: "nominal", title: null },
                },
            },
            {
                width: 900,
                height: 120,
                data: { values: pick.map(r => ({ t_s: r.t_s, soc_pct: r.soc_pct })) },
                mark: { type: "line", color: "#2a7" },
                encoding: { x, y: { field: "soc_pct", type: "quantitative", title: "SoC (%)", scale: { zero: false } } },
            },
            {
                width: 900,
                height: 120,
                data: { values: state },
                mark: { type: "line", interpolate: "step-after" },
                encoding: {
                    x,
                    y: { field: "value", type: "quantitative", title: "on / thermal / alarm" },
                    color: { field: "series", type: "nominal", title: null },
                },
            },
        ],
    }
    const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" })
    const svg = await view.toSVG()
    view.finalize()
    return svg
}
