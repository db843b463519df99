// Grid monitor (src/core/v2h/grid-monitor.ts) against the IEEE 1547-2018 category III table in devs.json.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { GridMonitor } from "../../src/core/v2h/grid-monitor"

const G = DEVS.grid
const V0 = G.nominalVoltageV
const F0 = G.nominalFrequencyHz
const STEP_MS = 20

/** Feeds a constant reading from t0 for ms; returns the time of the first "tripped" after t0, or -1. */
function hold(m: GridMonitor, t0: number, ms: number, v: number, f: number): number {
    for (let t = t0; t <= t0 + ms; t += STEP_MS) if (m.update(t, v, f) === "tripped") return t - t0
    return -1
}

function booted(): GridMonitor {
    const m = new GridMonitor(DEVS)
    expect(m.update(0, V0, F0)).toBe("ok") // power-up: first in-window reading, no delay
    expect(m.rampFraction).toBe(1)
    return m
}

describe("GridMonitor trip table", () => {
    const cases: [string, number, number, number, string][] = [
        ["loss of grid (0 V)", 0, 0, G.lossOfGrid.detectMs, "loss_of_grid"],
        ["OV2 1.25 pu", 1.25 * V0, F0, G.overVoltage[0].clearMs, "over_voltage"],
        ["OV1 1.15 pu", 1.15 * V0, F0, G.overVoltage[1].clearMs, "over_voltage"],
        ["UV1 0.80 pu", 0.8 * V0, F0, G.underVoltage[0].clearMs, "under_voltage"],
        ["UV2 0.40 pu", 0.4 * V0, F0, G.underVoltage[1].clearMs, "under_voltage"],
        ["OF2 62.5 Hz", V0, 62.5, G.overFrequency[0].clearMs, "over_frequency"],
        ["OF1 61.5 Hz", V0, 61.5, G.overFrequency[1].clearMs, "over_frequency"],
        ["UF1 58 Hz", V0, 58, G.underFrequency[0].clearMs, "under_frequency"],
        ["UF2 56 Hz", V0, 56, G.underFrequency[1].clearMs, "under_frequency"],
    ]
    for (const [name, v, f, clearMs, trip] of cases)
        it(`${name} trips at its clearing time (${clearMs} ms), not before`, () => {
            const m = booted()
            const t = hold(m, 1000, clearMs + 1000, v, f)
            expect(t).toBeGreaterThanOrEqual(clearMs)
            expect(t).toBeLessThanOrEqual(clearMs + STEP_MS)
            expect(m.trip).toBe(trip)
        })

    it("rides through an excursion shorter than its clearing time", () => {
        const m = booted()
        expect(hold(m, 1000, G.underVoltage[1].clearMs - 100, 0.6 * V0, F0)).toBe(-1)
        expect(m.update(3000, V0, F0)).toBe("ok")
        expect(hold(m, 3000, 20000, 0.9 * V0, 59.8)).toBe(-1) // inside the continuous band
    })

    it("non-finite readings count as no grid", () => {
        const m = booted()
        expect(hold(m, 1000, G.lossOfGrid.detectMs + 100, NaN, NaN)).toBeGreaterThanOrEqual(G.lossOfGrid.detectMs)
    })
})

describe("GridMonitor enter service", () => {
    it("reconnects only after delayMs inside the window, restarting the wait on any excursion, then ramps", () => {
        const m = booted()
        hold(m, 1000, 1000, 0, 0)
        const e = G.enterService
        let t = 3000
        expect(m.update(t, V0, F0)).toBe("reconnecting")
        t += e.delayMs / 2
        expect(m.update(t, 1.07 * V0, F0)).toBe("tripped") // outside the enter-service window: wait again
        t += 100
        expect(m.update(t, V0, F0)).toBe("reconnecting")
        const from = t
        while (m.update(t, V0, F0) !== "ok") t += 1000
        expect(t - from).toBe(e.delayMs)
        expect(m.rampFraction).toBe(0)
        m.update(t + e.rampMs / 2, V0, F0)
        expect(m.rampFraction).toBeCloseTo(0.5, 9)
        m.update(t + e.rampMs, V0, F0)
        expect(m.rampFraction).toBe(1)
    })

    it("a power-up outside the window waits like after a trip", () => {
        const m = new GridMonitor(DEVS)
        expect(m.update(0, 0.9 * V0, F0)).toBe("tripped")
        expect(m.trip).toBe("out_of_window")
        expect(m.update(100, V0, F0)).toBe("reconnecting")
    })
})
