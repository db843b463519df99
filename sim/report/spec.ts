// The report's plots as one vega-lite specification, compiled to vega here (in Node) so that the
// page carries only the vega runtime. Data sets are named and empty: the page fills them from
// the compact run data (data.ts) before it starts the view.
//
// Layout, top to bottom: an overview strip (drag in it to zoom every panel to that time range,
// double-click to reset), the numeric panels, the state timeline and the expectation windows.
// Every panel has the run's markers (trips, faults, commands, restarts) as vertical rules with
// a tooltip, and the expectation windows of its columns shaded green (pass) or red (fail). With
// two runs (a --compare), both are drawn on the same axes: lines dashed by run, timeline rows
// and expectations prefixed by the run's label.
import * as vl from "vega-lite"
import { MARKER_KINDS, PANELS, panelsFor } from "./data"

const WIDTH = 1000
export const MARKER_COLORS: Record<string, string> = {
    trip: "#d62728",
    fault: "#ff7f0e",
    command: "#1f77b4",
    rejected: "#8c564b",
    restart: "#9467bd",
}

/** The names of the data sets the page must fill. */
export const DATASETS = ["overview", "markers", "windows", "states", "expectations", ...PANELS.map(p => p.name), ...PANELS.map(p => "probe_" + p.name)]

export interface SpecInput {
    durationS: number
    labels: string[]
    /** The most outlets of the runs (their power series). */
    outletCount: number
    /** Timeline rows in display order (already prefixed by run label when there are two runs). */
    stateRows: string[]
    expectationRows: string[]
}

export function vegaSpec(inp: SpecInput): object {
    const two = inp.labels.length > 1
    const x = (title: string | null = "time (s)") => ({
        field: "t",
        type: "quantitative" as const,
        title,
        scale: { domain: { param: "brush" }, nice: false, zero: false },
        axis: { grid: true },
    })
    const markerLayer = (legend: boolean) => ({
        data: { name: "markers" },
        mark: { type: "rule" as const, strokeWidth: 1.5, opacity: 0.8 },
        encoding: {
            x: x(),
            color: {
                field: "kind",
                type: "nominal" as const,
                title: "markers",
                scale: { domain: MARKER_KINDS, range: MARKER_KINDS.map(k => MARKER_COLORS[k]) },
                ...(legend ? {} : { legend: null as any }),
            },
            // Dashed by run like the lines (the lines' legend explains it).
            ...(two ? { strokeDash: { field: "run", type: "nominal" as const, sort: inp.labels, legend: null as any } } : {}),
            tooltip: [
                { field: "t", type: "quantitative" as const, title: "t (s)", format: ".3f" },
                { field: "kind", type: "nominal" as const },
                { field: "text", type: "nominal" as const, title: "what" },
                ...(two ? [{ field: "run", type: "nominal" as const }] : []),
            ],
        },
    })
    const windowLayer = (panel: string) => ({
        data: { name: "windows" },
        transform: [{ filter: `datum.panel === '${panel}'` }],
        mark: { type: "rect" as const, opacity: 0.12, clip: true },
        encoding: {
            x: x(),
            x2: { field: "t2" },
            color: { field: "result", type: "nominal" as const, scale: { domain: ["pass", "fail"], range: ["#2ca02c", "#d62728"] }, legend: null as any },
            tooltip: [
                { field: "name", type: "nominal" as const, title: "expectation" },
                { field: "result", type: "nominal" as const },
                { field: "detail", type: "nominal" as const },
            ],
        },
    })
    const numericPanel = (p: (typeof PANELS)[number], last: boolean) => {
        const hover = "hover_" + p.name
        const tooltip: object[] = [{ field: "t", type: "quantitative", title: "t (s)", format: ".3f" }]
        inp.labels.forEach((label, ri) =>
            p.series.forEach((s, si) => tooltip.push({ field: `v${ri}_${si}`, type: "quantitative", title: two ? `${label}: ${s.label}` : s.label })),
        )
        return {
            width: WIDTH,
            height: p.name === "power" ? 260 : 120,
            title: { text: `${p.title} (${p.unit})`, anchor: "start" as const, fontSize: 13 },
            resolve: { scale: { color: "independent" as const, strokeDash: "independent" as const } },
            layer: [
                windowLayer(p.name),
                {
                    data: { name: p.name },
                    mark: { type: "line" as const, interpolate: "linear" as const, strokeWidth: 1.3, clip: true },
                    encoding: {
                        x: x(last ? "time (s)" : null),
                        y: { field: "v", type: "quantitative" as const, title: p.unit, scale: { zero: p.name !== "soc" && p.name !== "temp" } },
                        color: { field: "series", type: "nominal" as const, title: p.title, sort: p.series.map(s => s.label) },
                        ...(two ? { strokeDash: { field: "run", type: "nominal" as const, title: "run", sort: inp.labels } } : {}),
                        detail: { field: "run" },
                    },
                },
                markerLayer(p.name === "power"),
                {
                    data: { name: "probe_" + p.name },
                    params: [{ name: hover, select: { type: "point" as const, fields: ["t"], nearest: true, on: "pointerover", clear: "pointerout" } }],
                    mark: { type: "rule" as const, color: "#555", clip: true },
                    encoding: {
                        x: x(),
                        opacity: { condition: { param: hover, empty: false, value: 0.6 }, value: 0 },
                        tooltip,
                    },
                },
            ],
        }
    }
    const timeline = {
        width: WIDTH,
        height: Math.max(60, inp.stateRows.length * 16),
        title: { text: "States (hover for the value)", anchor: "start" as const, fontSize: 13 },
        resolve: { scale: { color: "independent" as const } },
        layer: [
            windowLayer("states"),
            {
                data: { name: "states" },
                mark: { type: "bar" as const, clip: true, height: 12 },
                encoding: {
                    x: x(null),
                    x2: { field: "t2" },
                    y: { field: "row", type: "nominal" as const, title: null as any, sort: inp.stateRows },
                    color: { field: "value", type: "nominal" as const, title: "state", scale: { scheme: "tableau20" }, legend: { columns: 6, symbolLimit: 120, orient: "bottom" as const } },
                    tooltip: [
                        { field: "row", type: "nominal" as const, title: "what" },
                        { field: "value", type: "nominal" as const },
                        { field: "t", type: "quantitative" as const, title: "from (s)", format: ".3f" },
                        { field: "t2", type: "quantitative" as const, title: "to (s)", format: ".3f" },
                    ],
                },
            },
            markerLayer(false),
        ],
    }
    const expectations = {
        width: WIDTH,
        height: Math.max(30, inp.expectationRows.length * 16),
        title: { text: "Expectation windows", anchor: "start" as const, fontSize: 13 },
        layer: [
            {
                data: { name: "expectations" },
                mark: { type: "bar" as const, clip: true, height: 12 },
                encoding: {
                    x: x(),
                    x2: { field: "t2" },
                    y: { field: "row", type: "nominal" as const, title: null as any, sort: inp.expectationRows, axis: { labelLimit: 320 } },
                    color: { field: "result", type: "nominal" as const, title: "expectation", scale: { domain: ["pass", "fail"], range: ["#2ca02c", "#d62728"] } },
                    tooltip: [
                        { field: "name", type: "nominal" as const, title: "expectation" },
                        { field: "result", type: "nominal" as const },
                        { field: "detail", type: "nominal" as const },
                        { field: "t", type: "quantitative" as const, title: "from (s)" },
                        { field: "t2", type: "quantitative" as const, title: "to (s)" },
                    ],
                },
            },
        ],
    }
    const overview = {
        width: WIDTH,
        height: 50,
        title: { text: "Overview (powers): drag to zoom every panel, double-click to reset", anchor: "start" as const, fontSize: 12, color: "#555" },
        data: { name: "overview" },
        params: [{ name: "brush", select: { type: "interval" as const, encodings: ["x" as const] } }],
        mark: { type: "line" as const, strokeWidth: 0.8, interpolate: "linear" as const },
        encoding: {
            x: { field: "t", type: "quantitative" as const, title: null as any, scale: { domain: [0, inp.durationS], nice: false } },
            y: { field: "v", type: "quantitative" as const, title: "W", axis: { tickCount: 2 } },
            color: { field: "series", type: "nominal" as const, legend: null as any },
            detail: { field: "run" },
            ...(two ? { strokeDash: { field: "run", type: "nominal" as const, title: "run", sort: inp.labels } } : {}),
        },
    }
    const datasets: Record<string, object[]> = {}
    for (const d of DATASETS) datasets[d] = []
    const top: vl.TopLevelSpec = {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        datasets: datasets as any,
        config: { view: { stroke: "#ccc" }, legend: { labelLimit: 240 } },
        spacing: 18,
        resolve: { scale: { x: "independent", color: "independent", strokeDash: "independent" }, legend: { color: "independent" } },
        vconcat: [overview, ...panelsFor(inp.outletCount).map(p => numericPanel(p, false)), timeline, expectations] as any,
    }
    return vl.compile(top).spec
}
