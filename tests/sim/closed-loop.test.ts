// Closed-loop tests: the real firmware bytecode in the DeviceScript VM against the plant,
// through the scenarios users run. Assertions are on the trace and the trip events, never on
// log text.
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { simulate, type SimRun } from "../../sim/engine"
import { buildFirmware } from "../../sim/firmware"
import { loadScenario } from "../../sim/scenario/load"
import { summarize, toCsv, type TraceRow } from "../../sim/trace"

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
        expect(toCsv(a.rows)).toBe(toCsv(b.rows))
    })
})
