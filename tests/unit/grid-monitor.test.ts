// Grid monitor (src/core/v2h/grid-monitor.ts) against the IEEE 1547-2018 category III table in devs.json.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { GridMonitor } from "../../src/core/v2h/grid-monitor"
import { F0, G, STEP_MS, V0, booted, expectTripsAt, hold } from "../helpers/grid-fixture"

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
            expectTripsAt(booted(), v, f, clearMs, trip)
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

describe("GridMonitor edges (found by mutation testing)", () => {
    it("several rows over at once: the first in table order is the trip reported (voltage before frequency)", () => {
        const m = booted()
        // 1.25 pu and 62.5 Hz both clear in 160 ms.
        expect(hold(m, 1000, 1000, 1.25 * V0, 62.5)).toBeLessThanOrEqual(G.overVoltage[0].clearMs + STEP_MS)
        expect(m.trip).toBe("over_voltage")
        const f = booted()
        hold(f, 1000, 1000, V0, 56)
        expect(f.trip).toBe("under_frequency")
    })

    it("a trip while tripped keeps the first trip and its time; the grid is not live below the loss threshold", () => {
        const m = booted()
        hold(m, 1000, 3000, 0.3 * V0, F0)
        expect(m.trip).toBe("under_voltage")
        const at = m.tripAtMs
        expect(at).toBeGreaterThanOrEqual(1000 + G.underVoltage[1].clearMs)
        hold(m, 10000, 1000, 1.3 * V0, F0)
        expect(m.state).toBe("tripped")
        expect(m.trip).toBe("under_voltage")
        expect(m.tripAtMs).toBe(at)
        expect(m.rampFraction).toBe(0)
        // 0.05 pu is not a live grid: under-voltage and frequency rows do not count, loss of grid does.
        const l = booted()
        expect(hold(l, 1000, 5000, 0.05 * V0, 50)).toBeGreaterThanOrEqual(G.lossOfGrid.detectMs)
        expect(l.trip).toBe("loss_of_grid")
        // Exactly at the threshold the grid is live (not lost), and 0.1 pu is far under-voltage.
        const b = booted()
        hold(b, 1000, 5000, G.lossOfGrid.belowPu * V0, F0)
        expect(b.trip).toBe("under_voltage")
    })

    it("leaving the window while reconnecting waits again; a trip in that very reading is recorded", () => {
        const m = booted()
        hold(m, 1000, 1000, 0, 0)
        expect(m.update(2000, V0, F0)).toBe("reconnecting")
        expect(m.sinceMs).toBe(2000)
        expect(m.update(2100, 1.25 * V0, F0)).toBe("tripped")
        expect(m.trip).toBe("loss_of_grid") // out of the window, not yet a trip
        // With an instantaneous row the trip happens in the same reading and is the one reported.
        const cfg = { grid: { ...G, overVoltage: [{ pu: 1.2, clearMs: 0 }] } }
        const n = new GridMonitor(cfg)
        n.update(0, V0, F0)
        hold(n, 1000, 1000, 0, 0)
        expect(n.update(2000, V0, F0)).toBe("reconnecting")
        expect(n.update(2100, 1.25 * V0, F0)).toBe("tripped")
        expect(n.trip).toBe("over_voltage")
        expect(n.tripAtMs).toBe(2100)
    })

    it("the enter-service window includes its edges", () => {
        const e = G.enterService
        for (const [v, f] of [
            [e.minPu * V0, F0],
            [e.maxPu * V0, F0],
            [V0, e.minHz],
            [V0, e.maxHz],
        ]) {
            const m = new GridMonitor(DEVS)
            expect(m.update(0, v, f), `${v} V ${f} Hz`).toBe("ok")
        }
        for (const [v, f] of [
            [e.minPu * V0 - 0.01, F0],
            [e.maxPu * V0 + 0.01, F0],
            [V0, e.minHz - 0.01],
            [V0, e.maxHz + 0.01],
        ]) {
            const m = new GridMonitor(DEVS)
            expect(m.update(0, v, f), `${v} V ${f} Hz`).toBe("tripped")
        }
    })

    it("a power-up at 0 V stays unknown until loss of grid is detected", () => {
        const m = new GridMonitor(DEVS)
        expect(m.update(0, 0, 0)).toBe("unknown")
        expect(m.update(G.lossOfGrid.detectMs - 1, 0, 0)).toBe("unknown")
        expect(m.update(G.lossOfGrid.detectMs, 0, 0)).toBe("tripped")
        expect(m.trip).toBe("loss_of_grid")
        expect(m.tripAtMs).toBe(G.lossOfGrid.detectMs)
    })

    it("after the ramp the fraction stays 1; without a ramp (rampMs 0) it is 1 at once", () => {
        const m = booted()
        hold(m, 1000, 1000, 0, 0)
        let t = 3000
        m.update(t, V0, F0)
        t += G.enterService.delayMs
        expect(m.update(t, V0, F0)).toBe("ok")
        expect(m.sinceMs).toBe(t)
        expect(m.rampFraction).toBe(0)
        m.update(t + G.enterService.rampMs + 5, V0, F0)
        expect(m.rampFraction).toBe(1)
        m.update(t + G.enterService.rampMs + 10, V0, F0)
        expect(m.rampFraction).toBe(1)
        const cfg = { grid: { ...G, enterService: { ...G.enterService, rampMs: 0 } } }
        const n = new GridMonitor(cfg)
        n.update(0, V0, F0)
        hold(n, 1000, 1000, 0, 0)
        n.update(3000, V0, F0)
        expect(n.update(3000 + G.enterService.delayMs, V0, F0)).toBe("ok")
        expect(n.rampFraction).toBe(1)
    })
})
