// npm run sim -- <scenario.json> [--out DIR] [--speed max|realtime] [--broker mqtt[s]://[USER[:PASS]@]HOST[:PORT]] [--mqtt-prefix P]
// Runs a scenario against the real firmware bytecode and writes trace.csv, summary.json plot.svg
// and report.html (open it in a browser; it works offline). Exit code: 0 all expectations passed, 1 an expectation failed (or the firmware
// panicked), 2 bad arguments or an invalid scenario.
import { mkdirSync, writeFileSync } from "node:fs"
import { basename, join, resolve } from "node:path"
import { parseArgs } from "node:util"
import cliProgress from "cli-progress"
import { ROOT } from "../scripts/lib/devs-config"
import { simulate, SIM_DEVICE_ID } from "./engine"
import { settingsFlash } from "./vm/settings"
import { brokerSettings } from "./broker-url"
import { buildFirmware } from "./firmware"
import { plotSvg } from "./plot"
import { loadScenarioOrExit } from "./scenario/load"
import { ScenarioError } from "./scenario/types"
import { summarize, toCsv } from "./trace"
import { reportHtml, runMarkers } from "./report/html"

export const DEFAULT_SCENARIO = join(ROOT, "sim", "scenarios", "outlet-overload-1.5.json")
const USAGE =
    "usage: npm run sim -- <scenario.json> [--out DIR] [--speed max|realtime] [--broker mqtt[s]://[USER[:PASS]@]HOST[:PORT]] [--mqtt-prefix P]"

async function main(argv: string[]): Promise<number> {
    let args
    try {
        args = parseArgs({
            args: argv,
            allowPositionals: true,
            options: {
                out: { type: "string" },
                speed: { type: "string" },
                broker: { type: "string" },
                "mqtt-prefix": { type: "string" },
                help: { type: "boolean" },
            },
        })
    } catch (err: any) {
        console.error(`${err.message}\n${USAGE}`)
        return 2
    }
    if (args.values.help) {
        console.log(USAGE)
        return 0
    }
    if (args.positionals.length > 1) {
        console.error(`one scenario file at a time (got ${args.positionals.length})\n${USAGE}`)
        return 2
    }
    // A broker means real sockets: the simulation must follow the wall clock.
    const broker = args.values.broker
    const speed = args.values.speed ?? (broker ? "realtime" : "max")
    if (speed !== "max" && speed !== "realtime") {
        console.error(`--speed ${speed}: must be max or realtime\n${USAGE}`)
        return 2
    }
    if (broker && speed !== "realtime") {
        console.error(`--broker needs --speed realtime (the firmware's socket runs on the wall clock)\n${USAGE}`)
        return 2
    }
    if (args.values["mqtt-prefix"] !== undefined && !broker) {
        console.error(`--mqtt-prefix needs --broker\n${USAGE}`)
        return 2
    }
    let flash: Uint8Array | undefined
    if (broker) {
        const b = brokerSettings(broker, args.values["mqtt-prefix"])
        if (typeof b === "string") {
            console.error(`--broker / --mqtt-prefix: ${b}\n${USAGE}`)
            return 2
        }
        flash = await settingsFlash(b, SIM_DEVICE_ID)
        const prefix = args.values["mqtt-prefix"] ?? `charger/${SIM_DEVICE_ID}`
        console.log(`MQTT: the firmware connects to ${b.mqttTls ? "mqtts" : "mqtt"}://${b.mqttHost}:${b.mqttPort}; topics under ${prefix}/ (commands on ${prefix}/cmd)`)
    }
    const file = resolve(args.positionals[0] ?? DEFAULT_SCENARIO)
    const scenario = loadScenarioOrExit(file)
    const out = resolve(args.values.out ?? join(ROOT, "out", basename(file).replace(/\.json$/, "")))
    console.log(`scenario: ${scenario.name} (${scenario.durationS} s simulated) from ${file}`)
    const bytecode = await buildFirmware(scenario.config)
    console.log(`firmware: src/main.ts, ${bytecode.length} bytes of bytecode, in the DeviceScript VM`)

    const bar =
        process.stdout.isTTY && (scenario.durationS >= 600 || speed === "realtime")
            ? new cliProgress.SingleBar({ format: "{bar} {percentage}% | {value}/{total} s simulated | ETA {eta}s" }, cliProgress.Presets.shades_classic)
            : undefined
    bar?.start(scenario.durationS, 0)
    let run
    try {
        run = await simulate(scenario, { bytecode, speed, flash, onProgress: s => bar?.update(Math.round(s)) })
    } catch (err) {
        bar?.stop()
        if (err instanceof ScenarioError) {
            console.error(err.message)
            return 2
        }
        throw err
    }
    bar?.stop()

    const summary = summarize(scenario, run.rows, run.trips, run)
    mkdirSync(out, { recursive: true })
    writeFileSync(join(out, "trace.csv"), toCsv(run.rows, scenario.config.outlets.count))
    writeFileSync(join(out, "summary.json"), JSON.stringify(summary, null, 2) + "\n")
    writeFileSync(join(out, "plot.svg"), await plotSvg(scenario.name, run.rows, scenario.config.outlets.count))
    const report = join(out, "report.html")
    writeFileSync(report, reportHtml([{ label: "simulator", scenario, rows: run.rows, summary, markers: runMarkers(scenario, run) }]))
    if (run.vmLog.length) writeFileSync(join(out, "firmware.log"), run.vmLog.join("\n") + "\n")

    console.log(`ran ${scenario.durationS} s in ${summary.wall_s} s (${summary.real_time_factor}x real time)`)
    for (const t of summary.trips) console.log(`trip: outlet ${t.outlet} ${t.reason} at ${t.t_s} s`)
    for (const w of summary.warnings) console.log(`warning: ${w}`)
    for (const x of summary.expectations) console.log(`${x.pass ? "PASS" : "FAIL"} ${x.name} (${x.detail})`)
    console.log(`results: ${join(out, "trace.csv")}, summary.json, plot.svg`)
    console.log(`report: ${report}`)
    const panicked = run.warnings.some(w => w.startsWith("firmware panic"))
    return summary.passed && !panicked ? 0 : 1
}

process.exitCode = await main(process.argv.slice(2))
