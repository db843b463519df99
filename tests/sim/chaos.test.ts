// The chaos test (issue 11) on a fixed set of seeds: random fault schedules through the real
// firmware in the simulator, every invariant of sim/chaos/invariants.ts checked on the trace.
// `npm run chaos -- --seeds N` runs many more.
import { describe, expect, it } from "vitest"
import { simulate } from "../../sim/engine"
import { buildFirmware } from "../../sim/firmware"
import { validateScenario } from "../../sim/scenario/validate"
import { chaosScenario } from "../../sim/chaos/generate"
import { INVARIANTS, checkInvariants } from "../../sim/chaos/invariants"

// 40 and 59 exposed firmware defects (a false outlet weld after a restart; a retransfer undone
// onto an overloaded island): kept as regression guards.
const SEEDS = [1, 7, 40, 59]

describe("chaos (fixed seeds)", () => {
    it.each(SEEDS)("seed %i: every invariant holds, through the recovery", async seed => {
        const json = chaosScenario(seed)
        const sc = validateScenario(json, json.name + ".json")
        const run = await simulate(sc, { bytecode: await buildFirmware(sc.config) })
        expect(checkInvariants(run)).toEqual([])
    }, 600_000)

    it("the invariants can fail: a trace with the house dark on a live grid, export and a panic is caught", () => {
        const row = (t: number, over: Record<string, unknown>) => ({ t_s: t, grid_up: 1, unserved_w: 0, inverter_w: 0, grid_w: 0, contactor_closed: 0, outlet1_w: 0, outlet2_w: 0, fault: "none", injected_faults: "", ...over })
        const rows = Array.from({ length: 300 }, (_, i) => row(i * 0.02, { unserved_w: 500, inverter_w: 2000, grid_w: -1500 }))
        const run: any = { scenario: validateScenario(chaosScenario(1), "x.json"), rows, warnings: ["firmware panic 60004 at 1.000 s: restarted"], firmwareEvents: [{ tS: 1, kind: "fault", value: "grid_relay_stuck_open" }] }
        const names = checkInvariants(run).map(v => v.invariant)
        for (const n of ["house_served_while_grid_up", "no_export_by_the_ev", "no_panic", "no_fault_without_cause", "fresh_setpoint_followed"]) expect(names).toContain(n)
        expect(Object.keys(INVARIANTS)).toHaveLength(7)
    })

    it("outlets_within_trip_curve: a welded relay's short may last until the second means has its proof (release + one meter period + its cut), no longer; without a weld 0.1 s", () => {
        const scenario = validateScenario(chaosScenario(1), "x.json")
        const trace = (shortS: number, injected: string) =>
            Array.from({ length: 100 }, (_, i) => ({ t_s: i * 0.02, outlet1_w: i >= 10 && i * 0.02 < 0.2 + shortS - 1e-9 ? 12000 : 0, outlet2_w: 0, injected_faults: injected }))
        const check = (shortS: number, injected: string) => INVARIANTS.outlets_within_trip_curve({ scenario, rows: trace(shortS, injected) } as any)
        expect(check(0.24, "outlet1_relay_welded")).toBeNull() // seed 108: 0.24 s
        expect(check(0.24, "")?.detail).toMatch(/not cut at once/)
        expect(check(0.06, "")).toBeNull()
        expect(check(0.4, "outlet1_relay_welded")?.detail).toMatch(/not cut at once/)
    })

    it("no_fault_without_cause takes the cause's time from the scenario's event, not from the 20 ms trace samples", () => {
        // Seed 136: an e-stop injected at 56.55 s latches at 56.55 s; the first trace sample showing it is 56.56 s.
        const json = { ...chaosScenario(1), events: [{ at_s: 56.55, fault: "estop" }, { at_s: 57.08, clear_fault: "estop" }] }
        const scenario = validateScenario(json, "x.json")
        const rows = [{ t_s: 56.54, injected_faults: "" }, { t_s: 56.56, injected_faults: "estop" }]
        const check = (tS: number, value: string) => INVARIANTS.no_fault_without_cause({ scenario, rows, firmwareEvents: [{ tS, kind: "fault", value }] } as any)
        expect(check(56.55, "estop")).toBeNull()
        // Before its injection, or a fault whose cause was never injected: still a violation.
        expect(check(56.54, "estop")?.invariant).toBe("no_fault_without_cause")
        expect(check(60, "contactor_welded")?.invariant).toBe("no_fault_without_cause")
    })
})
