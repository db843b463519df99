// Closed-loop tests: the real firmware bytecode in the DeviceScript VM against the plant,
// through the scenarios users run. Assertions are on the trace and the trip events, never on
// log text.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { simulate, type SimRun } from "../../sim/engine"
import { buildFirmware } from "../../sim/firmware"
import { loadScenario } from "../../sim/scenario/load"
import { summarize, toCsv, type TraceRow } from "../../sim/trace"
import { reportHtml, runMarkers } from "../../sim/report/html"
import { headlessUnavailable, launchHeadless, type Headless } from "../helpers/headless"
import { checkReportPage, PANEL_TITLES } from "../helpers/report-page"

const DIR = join(ROOT, "sim", "scenarios")
const runs = new Map<string, Promise<SimRun>>()

/** Runs a scenario once (cached) with the firmware built for its config (devs.json + its override). */
function run(name: string): Promise<SimRun> {
    if (!runs.has(name)) {
        const scenario = loadScenario(join(DIR, name))
        runs.set(name, buildFirmware(scenario.config).then(bytecode => simulate(scenario, { bytecode })))
    }
    return runs.get(name)!
}

const col = (rows: TraceRow[], c: keyof TraceRow) => rows.map(r => [r.t_s as number, r[c]] as const)
/** Times (s) at which a numeric column is above a threshold. */
const timesAbove = (rows: TraceRow[], c: keyof TraceRow, w: number) => col(rows, c).filter(([, v]) => Number(v) > w).map(([t]) => t)

beforeAll(async () => {
    await buildFirmware()
}, 120_000)

describe("scenario library", () => {
    const files = readdirSync(DIR).filter(f => f.endsWith(".json"))
    it.each(files)("%s meets its expectations, without a firmware panic", async file => {
        const r = await run(file)
        const s = summarize(r.scenario, r.rows, r.trips, r)
        expect(s.expectations.filter(x => !x.pass)).toEqual([])
        expect(r.warnings.filter(w => w.includes("panic"))).toEqual([])
        // The firmware's keepalive feeds the power stage's command watchdog in every scenario.
        expect(r.warnings.filter(w => w.includes("watchdog"))).toEqual([])
        expect(r.rows.length).toBe(Math.floor((r.scenario.durationS * 1000) / r.scenario.traceIntervalMs) + 1)
    })
})

describe("outlet protection end to end", () => {
    it.each([
        ["outlet-overload-1.5.json", 1, 5, 24],
        ["outlet-overload-2.0.json", 2, 5, 10],
    ])("%s: the load is delivered for t(r) within 10 %%", async (file, outlet, startS, curveS) => {
        const r = await run(file as string)
        const key = `outlet${outlet}_w` as keyof TraceRow
        const delivered = timesAbove(r.rows, key, 1000).filter(t => t >= (startS as number))
        const lastS = Math.min(...delivered.filter((t, i) => i + 1 === delivered.length || delivered[i + 1] - t > 0.5))
        const durationS = lastS - (startS as number)
        expect(durationS).toBeGreaterThan((curveS as number) * 0.9)
        expect(durationS).toBeLessThan((curveS as number) * 1.1)
        expect(r.trips[0]).toMatchObject({ outlet, reason: "overload_inverse" })
    })

    it("appliance inrush up to 2x for 0.4 s passes: the total really went that high, nothing tripped", async () => {
        const r = await run("outlet-inrush.json")
        const totals = r.rows.map(x => Number(x.outlet1_w) + Number(x.outlet2_w))
        expect(Math.max(...totals)).toBeGreaterThanOrEqual(2900)
        expect(r.trips).toEqual([])
        expect(r.rows.filter(x => (x.t_s as number) >= 5.2).every(x => x.outlet1_on === 1 && x.outlet2_on === 1)).toBe(true)
    })

    it("a short on one outlet is cut within one protection tick of its reading; the other outlet stays on", async () => {
        const r = await run("outlet-instant.json") // traced every 10 ms
        const shorted = timesAbove(r.rows, "outlet2_w", 3000)
        // plant step (10 ms) + meter report + one 20 ms protection tick + relay (10 ms)
        expect(shorted.length).toBeGreaterThan(0)
        expect(shorted[shorted.length - 1] - shorted[0]).toBeLessThanOrEqual(0.05)
        expect(r.trips).toEqual([expect.objectContaining({ outlet: 2, reason: "overload_instant" })])
        expect(r.rows.filter(x => (x.t_s as number) >= 2).every(x => x.outlet1_on === 1)).toBe(true)
    })

    it("sheds the lower-priority outlet before the trip and keeps the other", async () => {
        const r = await run("outlet-shedding.json")
        expect(r.trips).toHaveLength(1)
        expect(r.trips[0]).toMatchObject({ outlet: 2, reason: "shed" })
        // shed at 80 % of t(1.133) = 84.7 s after the load started at 5 s
        expect(r.trips[0].tS).toBeGreaterThan(5 + 84.7 * 0.9)
        expect(r.trips[0].tS).toBeLessThan(5 + 84.7 * 1.1)
        expect(timesAbove(r.rows, "outlet2_w", 0).every(t => t < r.trips[0].tS)).toBe(true)
    })

    it("a priority set by the HEMS at run time decides who is shed", async () => {
        const r = await run("outlet-priority.json")
        expect(r.trips.map(t => [t.outlet, t.reason])).toEqual([[1, "shed"]])
        expect(r.rejected).toEqual([])
    })

    it("latches until a valid reset; a reset into the same overload trips again at once", async () => {
        const r = await run("outlet-latch-reset.json")
        expect(r.trips.map(t => t.reason)).toEqual(["overload_instant", "overload_instant"])
        const on = (t0: number, t1: number) => r.rows.filter(x => (x.t_s as number) >= t0 && (x.t_s as number) <= t1).map(x => x.outlet1_on)
        expect(new Set(on(3.3, 26))).toEqual(new Set([0])) // the 3 s OFF at 10-13 s did not reset
        expect(r.trips[1].tS - 26).toBeLessThan(0.7) // inrush allowance 0.5 s + latency
        expect(on(46.5, 60).every(v => v === 1)).toBe(true)
    })

    it("SoC floor: alarm on reaching it, cut 30 s later, back when the floor is lowered", async () => {
        const r = await run("outlet-soc-floor.json")
        const alarmAt = r.rows.find(x => x.alarm === "soc_floor")!
        const cutAt = r.rows.find(x => x.outlet1_reason === "soc_floor")!
        expect(Number(alarmAt.soc_pct)).toBeLessThanOrEqual(30.01)
        expect((cutAt.t_s as number) - (alarmAt.t_s as number)).toBeGreaterThan(29.5)
        expect((cutAt.t_s as number) - (alarmAt.t_s as number)).toBeLessThan(30.5)
        expect(r.rows.filter(x => (x.t_s as number) > (cutAt.t_s as number) + 0.3 && (x.t_s as number) < 380).every(x => x.outlet1_on === 0)).toBe(true)
        expect(r.rows[r.rows.length - 1].outlet1_on).toBe(1)
    })

    it("a stale meter turns its outlet off after the 1 s timeout and back on when it reports again", async () => {
        const r = await run("outlet-meter-stale.json")
        const stale = r.rows.filter(x => x.outlet1_reason === "meter_stale").map(x => x.t_s as number)
        // The last reading came at most one 100 ms report before the fault at 10 s; then 1 s timeout.
        expect(stale[0]).toBeGreaterThanOrEqual(10.9)
        expect(stale[0]).toBeLessThan(11.3)
        expect(stale[stale.length - 1]).toBeLessThan(20.3)
        expect(r.rows.filter(x => (x.t_s as number) >= 2).every(x => x.outlet2_on === 1)).toBe(true)
    })

    it("the same scenario and seed give a byte-identical trace", async () => {
        const bytecode = await buildFirmware()
        const a = await simulate(loadScenario(join(DIR, "outlet-overload-2.0.json")), { bytecode })
        const b = await simulate(loadScenario(join(DIR, "outlet-overload-2.0.json")), { bytecode })
        expect(toCsv(a.rows, 2)).toBe(toCsv(b.rows, 2))
    })
})

describe("any outlet count the schema allows", () => {
    const outletColumns = (csv: string) => csv.split("\n")[0].split(",").filter(c => c.startsWith("outlet"))

    it("one outlet: outlet1_* columns only, one meter and relay in the plant, the trip on outlet 1", async () => {
        const r = await run("outlet-single.json")
        expect(outletColumns(toCsv(r.rows, 1))).toEqual(["outlet1_demand_w", "outlet1_w", "outlet1_on", "outlet1_reason"])
        expect(Object.keys(r.rows[0]).filter(k => k.startsWith("outlet2"))).toEqual([])
        const s = summarize(r.scenario, r.rows, r.trips, r)
        expect(Object.keys(s.energy_wh).filter(k => k.startsWith("outlet"))).toEqual(["outlet1"])
        expect(r.trips).toEqual([expect.objectContaining({ outlet: 1, reason: "overload_inverse" })])
    })

    it("three outlets: outlet3_* columns carry outlet 3's power and relay; shedding goes 2, 3; the short on outlet 3 cuts only outlet 3", async () => {
        const r = await run("outlet-three-outlets.json")
        expect(outletColumns(toCsv(r.rows, 3))).toEqual(
            ["demand_w", "w", "on", "reason"].flatMap(k => [1, 2, 3].map(n => `outlet${n}_${k}`)),
        )
        const at = (t: number) => r.rows.find(x => Math.abs(x.t_s - t) < 1e-6)!
        expect(at(50)).toMatchObject({ outlet1_on: 1, outlet2_on: 1, outlet3_on: 1 })
        expect(Number(at(50).outlet3_w)).toBeCloseTo(600, 0)
        expect(Number(at(103).outlet3_w)).toBeCloseTo(1000, 0)
        expect(at(110)).toMatchObject({ outlet1_on: 1, outlet2_on: 0, outlet3_on: 0, outlet3_w: 0 })
        expect(r.trips.map(t => [t.outlet, t.reason])).toEqual([
            [2, "shed"],
            [3, "shed"],
            [3, "overload_instant"],
        ])
        const s = summarize(r.scenario, r.rows, r.trips, r)
        expect(Object.keys(s.maxima).filter(k => k.startsWith("outlet"))).toEqual(["outlet1_w", "outlet2_w", "outlet3_w"])
    })
})

describe("V2H end to end", () => {
    const num = (rows: TraceRow[], c: keyof TraceRow) => rows.map(r => Number(r[c]))
    const at = (rows: TraceRow[], tS: number) => rows.find(r => (r.t_s as number) >= tS - 1e-9)!

    it.each(readdirSync(DIR).filter(f => (f.startsWith("v2h-") || f.startsWith("fault-")) && f !== "fault-estop.json"))(
        "%s: the DC contactor never opens under load (only the e-stop may)",
        async file => {
            const r = await run(file)
            for (let i = 1; i < r.rows.length; i++) {
                if (r.rows[i - 1].contactor_closed === 1 && r.rows[i].contactor_closed === 0)
                    expect(Math.abs(Number(r.rows[i - 1].inverter_w))).toBeLessThan(50)
            }
        },
    )

    it("the command rises at most 1,000 W/s and falls at once", async () => {
        const r = await run("v2h-setpoint.json")
        const cmd = num(r.rows, "v2h_command_w")
        let maxRise = 0
        let sawDrop = false
        // Over 1 s windows (samples and the firmware's 100 ms tick are not phase-locked): at most
        // 1,000 W plus one tick's step.
        for (let i = 10; i < cmd.length; i++) maxRise = Math.max(maxRise, Math.abs(cmd[i]) - Math.abs(cmd[i - 10]))
        for (let i = 1; i < cmd.length; i++) if (cmd[i - 1] >= 3000 && cmd[i] === 0) sawDrop = true
        expect(maxRise).toBeLessThanOrEqual(1100 + 1e-6)
        expect(maxRise).toBeGreaterThanOrEqual(900) // it does ramp at about that rate
        expect(sawDrop).toBe(true) // +3 kW to -2 kW: straight to 0 W, then the dwell
    })

    it("grid loss: the inverter command is 0 W and the grid relay open within 2 s; the house is islanded within 6 s", async () => {
        const r = await run("v2h-grid-loss-backup.json")
        const stop = r.rows.find(x => (x.t_s as number) >= 30 && Number(x.v2h_command_w) === 0)!
        expect(stop.t_s as number).toBeLessThanOrEqual(32)
        expect(at(r.rows, 32).grid_relay_closed).toBe(0)
        expect(Number(at(r.rows, 36).unserved_w)).toBeLessThan(25) // 1 % of the 2.5 kW house
        expect(r.firmwareEvents).toContainEqual(expect.objectContaining({ kind: "state", value: "backup" }))
        // Reconnection only after 300 s in band (grid back at 100 s).
        const reconnect = r.rows.find(x => (x.t_s as number) > 100 && x.grid_relay_closed === 1)!
        expect(reconnect.t_s as number).toBeGreaterThanOrEqual(400)
        expect(reconnect.t_s as number).toBeLessThan(402)
    })

    it("the fallback applies 60 s after the last valid command (refreshed by the identical one)", async () => {
        const r = await run("v2h-command-timeout.json")
        const zero = r.rows.find(x => (x.t_s as number) > 60 && Number(x.v2h_command_w) === 0)!
        expect(zero.t_s as number).toBeGreaterThanOrEqual(110)
        expect(zero.t_s as number).toBeLessThanOrEqual(110.3)
    })

    it("self-consumption does not hunt: one command value per steady period", async () => {
        const r = await run("v2h-self-consumption.json")
        for (const [from, to] of [[30, 58], [90, 118], [150, 178]]) {
            const values = new Set(r.rows.filter(x => (x.t_s as number) >= from && (x.t_s as number) <= to).map(x => x.v2h_command_w))
            expect(values.size).toBe(1)
        }
    })

    it("rejected commands are reported with their reason and change nothing", async () => {
        const r = await run("v2h-rejected-commands.json")
        expect(r.rejected.map(x => x.message)).toEqual([
            "setpoint_w = 9000: out of range -6000..6000 W",
            'setpoint_w = -3000: needs "mode": "setpoint" in the same command',
            "reserve_pct = 95: out of range 10..90 %",
            "reserve_pct = 60: must be below the charge limit (50 %)",
        ])
    })
})

const noBrowser = headlessUnavailable()
if (noBrowser) console.warn(noBrowser)
describe.skipIf(!!noBrowser)("report.html of every library scenario", () => {
    let browser: Headless | undefined
    afterAll(async () => {
        await browser?.close()
    })
    it("renders offline in headless Chromium with every plot and no console error (one browser for all)", async () => {
        browser = await launchHeadless()
        const out = join(ROOT, "out", "test-report", "scenarios")
        mkdirSync(out, { recursive: true })
        const files = readdirSync(DIR).filter(f => f.endsWith(".json"))
        const bad: Record<string, unknown> = {}
        for (const f of files) {
            const r = await run(f)
            const summary = summarize(r.scenario, r.rows, r.trips, r)
            const file = join(out, f.replace(/\.json$/, ".html"))
            writeFileSync(file, reportHtml([{ label: "simulator", scenario: r.scenario, rows: r.rows, summary, markers: runMarkers(r.scenario, r) }]))
            const c = await checkReportPage(browser, file)
            const missing = PANEL_TITLES.filter(t => !c.titles.includes(t))
            if (c.problems.length || c.blocked.length || !c.ready || c.error || missing.length || !(c.datasets.power > 1 && c.datasets.states > 1))
                bad[f] = { problems: c.problems, blocked: c.blocked, ready: c.ready, error: c.error, missing, datasets: c.datasets }
        }
        expect(files.length).toBeGreaterThan(20)
        expect(bad).toEqual({})
    }, 900_000)
})
