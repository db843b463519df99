import { describe, expect, it } from "vitest"
import { BUDGET_W, Loop, TICK_MS, VOLTAGE_V, config, settledLoop } from "../helpers/outlet-harness"

/** Puts a constant load of r x budget on outlet 1 and returns seconds until it is cut. */
function tripTimeS(r: number, loop = settledLoop()): number {
    loop.demandW[0] = r * BUDGET_W
    const ms = loop.msUntilCut(1, 3_600_000)
    // The relay is already on, so the load is delivered from the first tick: ms is how long it was delivered.
    return ms < 0 ? Infinity : ms / 1000
}

describe("trip curve from cold (t = 30 s / (r^2 - 1) above r = 1.1)", () => {
    it.each([
        [1.2, 68.18],
        [1.3, 43.48],
        [1.5, 24],
        [2.0, 10],
    ])("r = %s trips after %s s (+-5 %%) with reason overload_inverse", (r, expectedS) => {
        const loop = settledLoop()
        const t = tripTimeS(r, loop)
        expect(t).toBeGreaterThan(expectedS * 0.95)
        expect(t).toBeLessThan(expectedS * 1.05)
        expect(loop.reason(1)).toBe("overload_inverse")
        expect(loop.tripReasons()).toEqual(["1:overload_inverse"])
        expect(loop.outletOn(2)).toBe(true) // the idle outlet is not shed
    })

    it("never trips at exactly the budget (r = 1.0) for an hour", () => {
        const loop = settledLoop()
        expect(tripTimeS(1.0, loop)).toBe(Infinity)
        expect(loop.core.status.thermalLevel).toBe(0)
        expect(loop.core.status.alarm).toBe(false)
    })

    it("the current budget governs when it is the tighter one (1,200 W at 18 A is r = 1.2)", () => {
        const loop = settledLoop()
        loop.demandA[0] = 18
        const t = tripTimeS(1200 / BUDGET_W, loop)
        expect(t).toBeGreaterThan(68.18 * 0.95)
        expect(t).toBeLessThan(68.18 * 1.05)
    })

    it("either outlet alone may use the whole budget", () => {
        const loop = settledLoop()
        loop.demandW[1] = BUDGET_W
        loop.run(600_000)
        expect(loop.outletOn(2)).toBe(true)
        expect(loop.outletOn(1)).toBe(true)
    })
})

describe("warning band 1.0 < r <= 1.1", () => {
    it.each([1.01, 1.05, 1.1])("r = %s trips after 60 s (+-5 %%) with reason overload_sustained", r => {
        const loop = settledLoop()
        const t = tripTimeS(r, loop)
        expect(t).toBeGreaterThan(57)
        expect(t).toBeLessThan(63)
        expect(loop.reason(1)).toBe("overload_sustained")
    })

    it("sounds the alarm once the overload outlasts the warning delay, and stops when it ends", () => {
        const loop = settledLoop()
        loop.demandW[0] = 1.05 * BUDGET_W
        loop.run(400)
        expect(loop.core.status.alarm).toBe(false)
        loop.run(400)
        expect(loop.core.status).toMatchObject({ alarm: true, alarmReason: "overload" })
        loop.demandW[0] = 1000
        loop.run(2 * TICK_MS)
        expect(loop.core.status.alarm).toBe(false)
    })
})

describe("inrush and instant cut", () => {
    it("tolerates r = 2.0 for 0.5 s from cold (a compressor start)", () => {
        const loop = settledLoop()
        loop.demandW[0] = 2.0 * BUDGET_W
        loop.run(500)
        loop.demandW[0] = 500
        loop.run(60_000)
        expect(loop.outletOn(1)).toBe(true)
        expect(loop.events.filter(e => e.kind === "trip")).toHaveLength(0)
    })

    it("cuts r > 2.0 lasting longer than 0.5 s within one tick (overload_short)", () => {
        const loop = settledLoop()
        loop.demandW[0] = 2.5 * BUDGET_W
        const ms = loop.runUntil(st => !st.outletOn[0], 10_000) // how long it was delivered
        expect(ms).toBeGreaterThan(500)
        expect(ms).toBeLessThanOrEqual(500 + TICK_MS)
        expect(loop.reason(1)).toBe("overload_short")
    })

    it("cuts r >= 3.0 at the first tick that sees it (overload_instant)", () => {
        const loop = settledLoop()
        loop.demandW[0] = 3.0 * BUDGET_W
        loop.tick() // relay on: load delivered during this tick, seen at its end
        expect(loop.outletOn(1)).toBe(false)
        expect(loop.reason(1)).toBe("overload_instant")
    })
})

describe("thermal level cools instead of resetting", () => {
    it("a second overload after a partial cool-down trips sooner than from cold", () => {
        const cold = tripTimeS(1.5) // about 24 s
        const loop = settledLoop()
        loop.demandW[0] = 1.5 * BUDGET_W
        loop.run(12_000 + TICK_MS) // about half way
        expect(loop.core.status.thermalLevel).toBeGreaterThan(0.45)
        expect(loop.core.status.thermalLevel).toBeLessThan(0.55)
        loop.demandW[0] = 0
        loop.run(120_000 * Math.LN2) // one half-life of cooling (tau = 120 s)
        expect(loop.core.status.thermalLevel).toBeGreaterThan(0.22)
        expect(loop.core.status.thermalLevel).toBeLessThan(0.28)
        expect(loop.outletOn(1)).toBe(true)
        const warm = tripTimeS(1.5, loop)
        expect(warm).toBeGreaterThan(cold * 0.70)
        expect(warm).toBeLessThan(cold * 0.80)
    })

    it("repeated overloads add up", () => {
        const loop = settledLoop()
        for (let k = 0; k < 3; k++) {
            loop.demandW[0] = 1.5 * BUDGET_W
            loop.run(10_000) // each burst alone is well below the 24 s trip time
            loop.demandW[0] = 100
            loop.run(2_000)
        }
        expect(loop.events.filter(e => e.kind === "trip")).toMatchObject([{ outlet: 1, reason: "overload_inverse" }])
    })

    it("cools fully after a long rest", () => {
        const loop = settledLoop()
        loop.demandW[0] = 1.5 * BUDGET_W
        loop.run(20_000)
        loop.demandW[0] = 0
        loop.run(3_600_000)
        expect(loop.core.status.thermalLevel).toBeLessThan(1e-6)
    })
})

describe("shedding by priority", () => {
    it("sheds the lower-priority outlet before a trip and keeps the other", () => {
        const loop = settledLoop()
        loop.demandW[0] = 800 // outlet 1: high priority by default
        loop.demandW[1] = 900 // r = 1.133
        const ms = loop.runUntil(st => !st.outletOn[1], 600_000)
        // shed at 80 % of t(1.133) = 0.8 * 30 / (1.133^2 - 1) = 84.7 s
        expect(ms / 1000).toBeGreaterThan(80)
        expect(ms / 1000).toBeLessThan(90)
        expect(loop.reason(2)).toBe("shed")
        expect(loop.outletOn(1)).toBe(true)
        loop.run(600_000)
        expect(loop.outletOn(1)).toBe(true)
        expect(loop.events.filter(e => e.kind === "trip")).toMatchObject([{ outlet: 2, reason: "shed" }])
    })

    it("follows a priority changed at run time", () => {
        const loop = settledLoop()
        expect(loop.core.setHighPriorityOutlet(2)).toBe("")
        loop.demandW[0] = 800
        loop.demandW[1] = 900
        loop.runUntil(st => !st.outletOn[0] || !st.outletOn[1], 600_000)
        expect(loop.outletOn(1)).toBe(false)
        expect(loop.reason(1)).toBe("shed")
        expect(loop.outletOn(2)).toBe(true)
    })

    it("rejects a priority that is not an outlet, naming the value, and keeps the old one", () => {
        const loop = settledLoop()
        for (const bad of [0, 3, 1.5, NaN]) {
            expect(loop.core.setHighPriorityOutlet(bad)).toContain(String(bad))
            expect(loop.core.status.highPriorityOutlet).toBe(1)
        }
    })

    it("on an instant overload, cuts only the lower-priority outlet when that suffices", () => {
        const loop = settledLoop()
        loop.demandW[0] = 700
        loop.demandW[1] = 4000 // a short on outlet 2: total r = 3.13
        loop.tick()
        expect(loop.outletOn(1)).toBe(true)
        expect(loop.reason(2)).toBe("overload_instant")
    })

    it("cuts the high-priority outlet alone when it is the overloaded one", () => {
        const loop = settledLoop()
        loop.demandW[0] = 1700 // outlet 1 alone is r = 1.13
        loop.demandW[1] = 100
        loop.runUntil(st => !st.outletOn[0], 600_000)
        expect(loop.reason(1)).toBe("overload_inverse")
        expect(loop.outletOn(2)).toBe(true)
    })

    it("cuts both only when each alone is over budget", () => {
        const loop = settledLoop()
        loop.demandW[0] = 1600
        loop.demandW[1] = 1600 // r = 2.13 for > 0.5 s
        loop.runUntil(st => !st.outletOn[0] || !st.outletOn[1], 10_000)
        expect(loop.core.status.reason).toEqual(["overload_short", "overload_short"])
    })

    it("sheds the lower-priority outlet at the trip when both are moderately loaded", () => {
        const loop = settledLoop()
        loop.demandW[0] = 1000
        loop.demandW[1] = 1000 // r = 1.33: each alone is within budget
        loop.runUntil(st => !st.outletOn[0] || !st.outletOn[1], 600_000)
        expect(loop.outletOn(1)).toBe(true)
        expect(loop.reason(2)).toBe("shed")
    })
})

describe("latching and reset", () => {
    function tripped(): Loop {
        const loop = settledLoop()
        loop.demandW[0] = 2.0 * BUDGET_W
        loop.runUntil(st => !st.outletOn[0], 60_000)
        loop.demandW[0] = 0 // the user unplugs the appliance
        return loop
    }

    it("stays off with no automatic reset", () => {
        const loop = tripped()
        loop.run(3_600_000)
        expect(loop.outletOn(1)).toBe(false)
        expect(loop.reason(1)).toBe("overload_inverse")
    })

    it("ignores a switch OFF shorter than 5 s", () => {
        const loop = tripped()
        loop.cycleSwitch(4_900)
        expect(loop.outletOn(1)).toBe(false)
        expect(loop.core.status.latched[0]).toBe("overload_inverse")
        expect(loop.events.map(e => e.kind)).toContain("reset_refused")
    })

    it("resets after the switch was OFF for at least 5 s", () => {
        const loop = tripped()
        loop.cycleSwitch(5_000)
        expect(loop.outletOn(1)).toBe(true)
        expect(loop.reason(1)).toBe("none")
        expect(loop.events.map(e => e.kind)).toContain("reset")
    })

    it("shows the latched reason, not switch_off, while the switch is OFF", () => {
        const loop = tripped()
        loop.switchOn = false
        loop.run(1000)
        expect(loop.reason(1)).toBe("overload_inverse")
        expect(loop.reason(2)).toBe("switch_off")
        expect(loop.outletOn(2)).toBe(false)
    })

    it("trips again at once when the overload is still present at reset", () => {
        const loop = tripped()
        loop.demandW[0] = 1.2 * BUDGET_W // the appliance is still plugged in
        loop.cycleSwitch(5_000)
        const ms = loop.runUntil(st => !st.outletOn[0], 10_000)
        expect(ms).toBeLessThanOrEqual(500 + TICK_MS)
        expect(loop.reason(1)).toBe("overload_on_reset")
    })

    it("a reset does not re-trip a load within budget", () => {
        const loop = tripped()
        loop.demandW[0] = 1400
        loop.cycleSwitch(5_000)
        loop.run(600_000)
        expect(loop.outletOn(1)).toBe(true)
    })
})

describe("SoC floor", () => {
    it("alarms on reaching the floor, cuts 30 s later, recovers at floor + 2 %", () => {
        const loop = settledLoop()
        loop.demandW[0] = 500
        loop.socPct = 30.5
        loop.run(1000)
        expect(loop.core.status.alarm).toBe(false)
        loop.socPct = 30
        loop.tick()
        expect(loop.core.status).toMatchObject({ alarm: true, alarmReason: "soc_floor", socState: "alarm" })
        expect(loop.outletOn(1)).toBe(true)
        const ms = loop.runUntil(st => !st.outletOn[0], 60_000)
        expect(ms).toBeGreaterThanOrEqual(30_000 - TICK_MS)
        expect(ms).toBeLessThanOrEqual(30_000)
        expect(loop.core.status.reason).toEqual(["soc_floor", "soc_floor"])
        expect(loop.core.status.alarm).toBe(false)
        loop.socPct = 31.9
        loop.run(10_000)
        expect(loop.outletOn(1)).toBe(false)
        loop.socPct = 32
        loop.tick()
        expect(loop.outletOn(1)).toBe(true)
    })

    it("comes back when the floor is lowered below the SoC", () => {
        const loop = settledLoop()
        loop.socPct = 29
        loop.run(31_000)
        expect(loop.outletOn(1)).toBe(false)
        expect(loop.core.setSocFloor(25)).toBe("")
        loop.tick()
        expect(loop.outletOn(1)).toBe(true)
    })

    it("cancels the alarm if SoC recovers by the hysteresis before the cut", () => {
        const loop = settledLoop()
        loop.socPct = 30
        loop.run(10_000)
        loop.socPct = 32
        loop.run(60_000)
        expect(loop.outletOn(1)).toBe(true)
        expect(loop.core.status.alarm).toBe(false)
    })

    it("treats a stale SoC like reaching the floor (soc_unknown)", () => {
        const loop = settledLoop()
        loop.socFresh = false
        loop.run(5_000 + 2 * TICK_MS)
        expect(loop.core.status.alarmReason).toBe("soc_unknown")
        loop.run(30_000)
        expect(loop.reason(1)).toBe("soc_unknown")
        loop.socFresh = true
        loop.tick()
        expect(loop.outletOn(1)).toBe(true)
    })

    it.each([5, 95, NaN, Infinity])("rejects floor %s naming the value; the floor is unchanged", bad => {
        const loop = settledLoop()
        const err = loop.core.setSocFloor(bad)
        expect(err).toContain(String(bad))
        expect(loop.core.status.socFloorPct).toBe(30)
    })

    it("accepts the ends of the 10-90 % range", () => {
        const loop = settledLoop()
        expect(loop.core.setSocFloor(10)).toBe("")
        expect(loop.core.setSocFloor(90)).toBe("")
        expect(loop.core.status.socFloorPct).toBe(90)
    })
})

describe("stale and invalid measurements", () => {
    it("turns off an outlet whose meter stops updating and brings it back when fresh", () => {
        const loop = settledLoop()
        loop.demandW = [300, 300]
        loop.meterFresh[0] = false
        const ms = loop.runUntil(st => !st.outletOn[0], 5_000)
        expect(ms).toBeGreaterThan(1000)
        expect(ms).toBeLessThanOrEqual(1000 + TICK_MS)
        expect(loop.reason(1)).toBe("meter_stale")
        expect(loop.outletOn(2)).toBe(true)
        loop.meterFresh[0] = true
        loop.tick()
        expect(loop.outletOn(1)).toBe(true)
        expect(loop.core.status.latched[0]).toBe("none")
    })

    it("turns off an outlet reporting NaN (meter_invalid) and recovers", () => {
        const loop = settledLoop()
        loop.meterForced[0] = true
        loop.meterForcedValue = NaN
        loop.tick()
        expect(loop.reason(1)).toBe("meter_invalid")
        loop.meterForced[0] = false
        loop.tick()
        expect(loop.outletOn(1)).toBe(true)
    })
})

describe("status is observable", () => {
    it("reports load ratio, totals and thermal level", () => {
        const loop = settledLoop()
        loop.demandW = [900, 300]
        loop.run(2 * TICK_MS)
        const st = loop.core.status
        expect(st.totalPowerW).toBe(1200)
        expect(st.totalCurrentA).toBeCloseTo(1200 / VOLTAGE_V)
        expect(st.loadRatio).toBeCloseTo(0.8)
        expect(st.thermalLevel).toBe(0)
    })

    it("starts with outlets off until the switch is seen ON", () => {
        const loop = new Loop(config())
        loop.switchOn = false
        loop.run(1000)
        expect(loop.core.status.outletOn).toEqual([false, false])
        expect(loop.core.status.reason).toEqual(["switch_off", "switch_off"])
    })
})
