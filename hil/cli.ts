// npm run hil -- <scenario.json> (--port <serial path> | --hub tcp://HOST:PORT) [--out DIR]
//                [--compare] [--until S] [--no-reset] [--keep-state]
// Runs a library scenario, unchanged, against firmware on a board (the Jacdac USB bridge on a
// serial port, or the stand-in's pseudo-terminal) or behind a Jacdac hub, in real time, and
// writes what `npm run sim` writes (trace.csv, summary.json with a `hil` section, plot.svg) plus
// firmware.log (the device's log text) and, with --compare, comparison.json / comparison.md.
// Exit code: 0 every expectation passed; 1 an expectation failed, the run was cut short, or the
// bench's timing went past its jitter bound; 2 bad arguments, an invalid scenario, no link, or a
// role that could not be pinned to its server.
import { mkdirSync, writeFileSync } from "node:fs"
import { basename, join, resolve } from "node:path"
import { ROOT } from "../scripts/lib/devs-config"
import { simulate } from "../sim/engine"
import { buildFirmware } from "../sim/firmware"
import { plotSvg } from "../sim/plot"
import { reportHtml, runMarkers } from "../sim/report/html"
import { loadScenario } from "../sim/scenario/load"
import { ScenarioError } from "../sim/scenario/types"
import { summarize, toCsv } from "../sim/trace"
import { runBench } from "./bench"
import { compareRuns, comparisonMarkdown } from "./compare"
import { HubLink, SerialLink, parseHubUrl, type BenchLink } from "./link"
import { cutScenario } from "./until"
import { parseHilArgs, HIL_USAGE } from "./args"

export async function hilMain(argv: string[], print: (line: string) => void = console.log, printErr: (line: string) => void = console.error): Promise<number> {
    const a = parseHilArgs(argv)
    if (typeof a === "string") {
        printErr(`${a}\n${HIL_USAGE}`)
        return 2
    }
    if (a.help) {
        print(HIL_USAGE)
        return 0
    }
    let loaded
    try {
        loaded = loadScenario(resolve(a.scenario))
    } catch (err) {
        if (err instanceof ScenarioError) {
            printErr(err.message)
            return 2
        }
        throw err
    }
    const { scenario, skipped } = cutScenario(loaded, a.untilS ?? Infinity)
    const out = resolve(a.out ?? join(ROOT, "out", "hil", basename(a.scenario).replace(/\.json$/, "")))
    let link: BenchLink
    if (a.port) link = new SerialLink(a.port)
    else {
        const u = parseHubUrl(a.hub!)
        if (typeof u === "string") {
            printErr(`--hub ${u}\n${HIL_USAGE}`)
            return 2
        }
        link = new HubLink(u.host, u.port)
    }
    const deviceLog: string[] = []
    link.onLog = line => deviceLog.push(line)
    try {
        await link.open()
    } catch (err: any) {
        printErr(`hil: ${(err as Error).message}`)
        return 2
    }
    print(`scenario: ${scenario.name} (${scenario.durationS} s in real time${a.untilS ? `, cut at --until ${a.untilS} s` : ""}) from ${a.scenario}`)
    print(`firmware: on ${link.description}`)
    const warnings: string[] = []
    if (Object.keys(scenario.configOverride).length)
        warnings.push(`this scenario overrides devs.json (${Object.keys(scenario.configOverride).join(", ")}): the firmware on the link must be a build with that config`)
    for (const e of skipped) warnings.push(`expectation "${e.name}" not checked: its window ends after --until ${a.untilS} s`)

    const bench = await runBench(scenario, link, { reset: a.reset, clearState: a.clearState, onLog: l => a.verbose && print(`bench: ${l}`) })
    link.close()
    const run = bench.run
    if (bench.refused) {
        printErr(`hil: refusing to run ${scenario.name}: roles would bind elsewhere than their servers:`)
        for (const p of bench.refused) printErr(`  - role ${p.role}: ${p.message}`)
        return 2
    }
    if (run.aborted && !bench.firmwareDeviceId) {
        printErr(`hil: ${run.aborted}`)
        return 2
    }
    const jitterOk = bench.jitter.exceeded_steps === 0
    if (!jitterOk)
        warnings.push(
            `bench timing: the plant lagged the wall clock by more than ${bench.jitter.bound_ms} ms (max ${bench.jitter.max_lag_ms} ms) at ${bench.jitter.exceeded_at_s.map(t => t.toFixed(1)).join(", ")} s: times measured near those moments are not trustworthy; re-run on a quieter machine`,
        )
    if (run.aborted) warnings.push(`run stopped at ${run.rows[run.rows.length - 1]?.t_s ?? 0} s: ${run.aborted}`)
    for (const r of bench.rebinds) warnings.push(`role ${r.role} moved at ${r.t_s.toFixed(2)} s (${r.message}) and was pinned again`)
    const summary = summarize(scenario, run.rows, run.trips, { ...run, warnings: [...run.warnings, ...warnings] })
    const passed = summary.passed && jitterOk && !run.aborted
    const full = {
        ...summary,
        passed,
        hil: {
            link: link.description,
            firmware_device: bench.firmwareDeviceId ?? null,
            roles_pinned_at_s: bench.pinnedAtS ?? null,
            roles: bench.roles.map(r => ({ role: r.role, device: r.deviceId, service_index: r.serviceIndex })),
            role_rebinds: bench.rebinds,
            firmware_restarts_s: bench.firmwareRestarts,
            // program stopped and the persisted record deleted (acknowledged), then the reset
            start: { record_cleared_at_s: bench.start.record_cleared_at_s ?? null, reset_at_s: bench.start.reset_at_s ?? null },
            link_health: {
                frames_in: bench.link.framesIn,
                frames_out: bench.link.framesOut,
                frames_lost: bench.link.framesLost,
                device_frame_gaps: bench.link.deviceFrameGaps,
                reconnects: bench.link.reconnects,
                outages_s: bench.link.outages_s,
            },
            jitter: bench.jitter,
            timing_trustworthy: jitterOk,
            skipped_expectations: skipped.map(e => e.name),
        },
    }
    mkdirSync(out, { recursive: true })
    writeFileSync(join(out, "trace.csv"), toCsv(run.rows, scenario.config.outlets.count))
    writeFileSync(join(out, "summary.json"), JSON.stringify(full, null, 2) + "\n")
    writeFileSync(join(out, "plot.svg"), await plotSvg(`${scenario.name} (HIL)`, run.rows, scenario.config.outlets.count))
    writeFileSync(join(out, "firmware.log"), deviceLog.join("\n") + "\n")
    const benchReport = { label: "bench", scenario, rows: run.rows, summary: full, markers: runMarkers(scenario, run) }
    writeFileSync(join(out, "report.html"), reportHtml([benchReport]))

    const h = full.hil.link_health
    print(
        `link: ${h.frames_in} frames in, ${h.frames_out} out, ${h.frames_lost} lost, ${h.device_frame_gaps} device gaps, ${h.reconnects} reconnects, ${h.outages_s.length} outages; roles pinned at ${full.hil.roles_pinned_at_s ?? "-"} s`,
    )
    print(`plant step lag: max ${bench.jitter.max_lag_ms} ms, p99 ${bench.jitter.p99_lag_ms} ms (bound ${bench.jitter.bound_ms} ms)${jitterOk ? "" : " EXCEEDED"}`)
    for (const t of summary.trips) print(`trip: outlet ${t.outlet} ${t.reason} at ${t.t_s} s`)
    for (const w of full.warnings) print(`warning: ${w}`)
    for (const x of summary.expectations) print(`${x.pass ? "PASS" : "FAIL"} ${x.name} (${x.detail})`)

    if (a.compare) {
        const bytecode = await buildFirmware(scenario.config)
        const simRun = await simulate(scenario, { bytecode })
        const simSummary = summarize(scenario, simRun.rows, simRun.trips, simRun)
        writeFileSync(join(out, "sim-trace.csv"), toCsv(simRun.rows, scenario.config.outlets.count))
        const c = compareRuns(
            scenario,
            { rows: simRun.rows, trips: simRun.trips, expectations: simSummary.expectations },
            { rows: run.rows, trips: run.trips, expectations: summary.expectations },
        )
        writeFileSync(join(out, "comparison.json"), JSON.stringify(c, null, 2) + "\n")
        writeFileSync(join(out, "comparison.md"), comparisonMarkdown(c))
        // The report page then shows both runs on the same axes.
        const simReport = { label: "simulator", scenario, rows: simRun.rows, summary: simSummary, markers: runMarkers(scenario, simRun) }
        writeFileSync(join(out, "report.html"), reportHtml([simReport, benchReport]))
        print(`compare: ${c.same_verdicts ? "same verdict on every expectation" : "VERDICTS DIFFER"}; ${c.trips.map(t => `trip ${t.outlet} ${t.reason} ${t.diff_s ?? "unpaired"} s`).join(", ") || "no trips"}`)
    }
    print(`results: ${join(out, "trace.csv")}, summary.json, plot.svg, firmware.log${a.compare ? ", comparison.md" : ""}`)
    print(`report: ${join(out, "report.html")}${a.compare ? " (simulator and bench on the same axes)" : ""}`)
    return passed ? 0 : 1
}
