// Grid monitor (src/core/v2h/grid-monitor.ts): each must-trip row exactly on its threshold and just
// past it, the clearing time counted from the first reading (also at power-up), and readings that
// are not a grid. Against the IEEE 1547-2018 category III table in devs.json.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { GridMonitor } from "../../src/core/v2h/grid-monitor"
import { F0, G, STEP_MS, V0, booted, expectTripsAt, hold } from "../helpers/grid-fixture"

/** The voltage that reads exactly `pu` per unit (checked: v / V0 === pu). */
function voltsAt(pu: number): number {
    const v = pu * V0
    expect(v / V0).toBe(pu)
    return v
}

describe("GridMonitor: a reading exactly on a row's threshold is not past it", () => {
    // Each row: a reading on its threshold rides through that row's clearing time (it trips, if at
    // all, on a slower row it is past); a reading just past it trips at that row's clearing time.
    const ov = G.overVoltage
    const uv = G.underVoltage
    const of = G.overFrequency
    const uf = G.underFrequency
    const rows: [string, (d: number) => [number, number], number, number, string][] = [
        // name, reading at offset d past the threshold, this row's clearing time, the slower row's (or -1), trip
        [`OV ${ov[0].pu} pu`, d => [voltsAt(ov[0].pu) + d, F0], ov[0].clearMs, ov[1].clearMs, "over_voltage"],
        [`OV ${ov[1].pu} pu`, d => [voltsAt(ov[1].pu) + d, F0], ov[1].clearMs, -1, "over_voltage"],
        [`UV ${uv[0].pu} pu`, d => [voltsAt(uv[0].pu) - d, F0], uv[0].clearMs, -1, "under_voltage"],
        [`UV ${uv[1].pu} pu`, d => [voltsAt(uv[1].pu) - d, F0], uv[1].clearMs, uv[0].clearMs, "under_voltage"],
        [`OF ${of[0].hz} Hz`, d => [V0, of[0].hz + d], of[0].clearMs, of[1].clearMs, "over_frequency"],
        [`OF ${of[1].hz} Hz`, d => [V0, of[1].hz + d], of[1].clearMs, -1, "over_frequency"],
        [`UF ${uf[0].hz} Hz`, d => [V0, uf[0].hz - d], uf[0].clearMs, -1, "under_frequency"],
        [`UF ${uf[1].hz} Hz`, d => [V0, uf[1].hz - d], uf[1].clearMs, uf[0].clearMs, "under_frequency"],
    ]
    for (const [name, at, clearMs, slowerMs, trip] of rows) {
        it(`${name}: on the threshold it rides through ${clearMs} ms; just past it, it trips then`, () => {
            const [v, f] = at(0)
            const on = booted()
            const t = hold(on, 1000, clearMs + 1000, v, f)
            if (slowerMs < 0) expect(t, "no other row is past").toBe(-1)
            else {
                // Past the slower row only: it trips at that row's clearing time.
                expect(t).toBe(-1)
                const later = hold(on, 1000 + clearMs + 1000 + STEP_MS, slowerMs + 1000, v, f)
                const due = slowerMs - (clearMs + 1000 + STEP_MS) // the slower row's timer started at 1000 too
                expect(later).toBeGreaterThanOrEqual(due)
                expect(later).toBeLessThanOrEqual(due + STEP_MS)
                expect(on.trip).toBe(trip)
            }
            const [pv, pf] = at(0.01)
            expectTripsAt(booted(), pv, pf, clearMs, trip)
        })
    }
})

describe("GridMonitor: the clearing time counts from the first reading past a row", () => {
    it("a power-up past a row reports the grid out of the window, not that row's trip, which has not cleared yet", () => {
        for (const [v, f] of [
            [1.3 * V0, F0],
            [0.3 * V0, F0],
            [V0, 63],
            [V0, 55],
        ]) {
            const m = new GridMonitor(DEVS)
            expect(m.update(0, v, f), `${v} V ${f} Hz`).toBe("tripped")
            expect(m.trip, `${v} V ${f} Hz`).toBe("out_of_window")
        }
    })

    it("a row past its threshold inside the enter-service window: a power-up still connects, the row trips only after its clearing time", () => {
        // An over-voltage row at 1.04 pu, inside the window (maxPu 1.05), clearing in 1 s.
        const cfg = { grid: { ...G, overVoltage: [{ pu: 1.04, clearMs: 1000 }] } }
        const m = new GridMonitor(cfg)
        expect(m.update(0, 1.045 * V0, F0)).toBe("ok")
        expect(m.update(999, 1.045 * V0, F0)).toBe("ok")
        expect(m.update(1000, 1.045 * V0, F0)).toBe("tripped")
        expect(m.trip).toBe("over_voltage")
        expect(m.tripAtMs).toBe(1000)
    })

    it("before any reading: no trip reported, the grid neither live nor in the window", () => {
        const m = new GridMonitor(DEVS)
        expect(m.state).toBe("unknown")
        expect(m.trip).toBe("none")
        expect(m.live).toBe(false)
        expect(m.inWindow).toBe(false)
        m.update(0, V0, F0)
        expect(m.live).toBe(true)
        expect(m.inWindow).toBe(true)
        m.update(20, 0.05 * V0, F0)
        expect(m.live).toBe(false)
        expect(m.inWindow).toBe(false)
    })
})

describe("GridMonitor: readings that are not a grid", () => {
    it("a good voltage with a non-finite frequency counts as no frequency: under-frequency at the fast row's clearing time", () => {
        const m = booted()
        const t = hold(m, 1000, 1000, V0, NaN)
        expect(t).toBeGreaterThanOrEqual(G.underFrequency[1].clearMs)
        expect(t).toBeLessThanOrEqual(G.underFrequency[1].clearMs + STEP_MS)
        expect(m.trip).toBe("under_frequency")
    })

    it("no live voltage: an over-frequency reading does not count, the loss of grid is the trip", () => {
        const m = booted()
        const t = hold(m, 1000, 2000, 0.05 * V0, 63)
        expect(t).toBeGreaterThanOrEqual(G.lossOfGrid.detectMs)
        expect(m.trip).toBe("loss_of_grid")
    })
})

describe("GridMonitor: the enter-service ramp at uptime 0 (a delay of 0, allowed by devs.json)", () => {
    it("a reconnection in the very first millisecond still ramps, and reaches the rating at the ramp's end", () => {
        const cfg = { grid: { ...G, enterService: { ...G.enterService, delayMs: 0 } } }
        const m = new GridMonitor(cfg)
        expect(m.update(0, 0.9 * V0, F0)).toBe("tripped") // out of the window at power-up
        expect(m.update(0, V0, F0)).toBe("reconnecting")
        expect(m.update(0, V0, F0)).toBe("ok")
        expect(m.rampFraction).toBe(0)
        m.update(G.enterService.rampMs / 2, V0, F0)
        expect(m.rampFraction).toBeCloseTo(0.5, 9)
        m.update(G.enterService.rampMs, V0, F0)
        expect(m.rampFraction).toBe(1)
        m.update(G.enterService.rampMs, V0, F0)
        expect(m.rampFraction).toBe(1)
    })
})

describe("GridMonitor: after a trip", () => {
    it("two rows clearing in the same reading: the voltage row is reported before the frequency row, over or under", () => {
        // OV 1.2 pu and UF 56.5 Hz both clear in 160 ms.
        expect(G.overVoltage[0].clearMs).toBe(G.underFrequency[1].clearMs)
        const m = booted()
        hold(m, 1000, 1000, 1.25 * V0, 56)
        expect(m.trip).toBe("over_voltage")
    })

    it("readings that stay bad keep the first trip and its time, whichever row clears later, and keep the grid tripped", () => {
        const m = booted()
        expect(hold(m, 1000, 1000, V0, 63)).toBeGreaterThanOrEqual(G.overFrequency[0].clearMs)
        const at = m.tripAtMs
        // 0.3 pu for longer than the under-voltage rows' clearing times, every reading fed.
        for (let t = 2000; t <= 2000 + G.underVoltage[1].clearMs + 1000; t += STEP_MS) {
            expect(m.update(t, 0.3 * V0, F0)).toBe("tripped")
            expect(m.sinceMs).toBe(0) // not reconnecting: the reading is out of the window
        }
        expect(m.trip).toBe("over_frequency")
        expect(m.tripAtMs).toBe(at)
        // Back in the window: the wait starts then.
        expect(m.update(10000, V0, F0)).toBe("reconnecting")
        expect(m.sinceMs).toBe(10000)
        expect(m.update(10000 + G.enterService.delayMs - 1, V0, F0)).toBe("reconnecting")
        expect(m.update(10000 + G.enterService.delayMs, V0, F0)).toBe("ok")
    })
})

describe("GridMonitor: an under-voltage's clearing time runs from the start of the dip, through ~0 V", () => {
    const uv2 = G.underVoltage.reduce((a, r) => (r.clearMs < a.clearMs ? r : a))
    const lossMs = G.lossOfGrid.detectMs

    it("0 V for less than the loss-of-grid time, then a partial recovery below the fast row: tripped at that row's clearing time from the dip", () => {
        const m = booted()
        const dipMs = lossMs - 20
        expect(hold(m, 1000, dipMs, 0, F0)).toBe(-1) // too short for loss of grid
        const at = hold(m, 1000 + dipMs + STEP_MS, uv2.clearMs, voltsAt(uv2.pu / 2), F0)
        expect(at).toBeGreaterThanOrEqual(0)
        // From the dip's first reading: the fast row's clearing time (before: counted from the
        // partial recovery, dipMs later).
        expect(1000 + dipMs + STEP_MS + at - 1000).toBe(uv2.clearMs)
        expect(m.trip).toBe("under_voltage")
    })

    it("a grid gone for good is still reported as loss of grid (the faster, earlier trip)", () => {
        const m = booted()
        expect(hold(m, 1000, uv2.clearMs + 1000, 0, 0)).toBe(lossMs)
        expect(hold(m, 1000 + lossMs + STEP_MS, uv2.clearMs, 0, 0)).toBe(0) // stays tripped
        expect(m.trip).toBe("loss_of_grid")
        expect(m.live).toBe(false)
    })

    it("an under-voltage that drops on to 0 V trips at the row's clearing time from its start, as under-voltage", () => {
        const m = booted()
        const lowMs = uv2.clearMs - 100
        expect(hold(m, 1000, lowMs, voltsAt(uv2.pu / 2), F0)).toBe(-1)
        // 100 ms later the row's clearing time is up: before the loss-of-grid detection time.
        const at = hold(m, 1000 + lowMs + STEP_MS, lossMs, 0, 0)
        expect(1000 + lowMs + STEP_MS + at - 1000).toBe(uv2.clearMs)
        expect(m.trip).toBe("under_voltage")
    })
})

describe("GridMonitor: loss of grid and an under-voltage row clearing in the same reading", () => {
    it("is reported as loss of grid (the house islands at once for backup; an under-voltage of a live grid would not)", () => {
        const uv2 = G.underVoltage.reduce((a, r) => (r.clearMs < a.clearMs ? r : a))
        const m = booted()
        const lossMs = G.lossOfGrid.detectMs
        const lowMs = uv2.clearMs - lossMs - STEP_MS
        expect(hold(m, 1000, lowMs, voltsAt(uv2.pu / 2), F0)).toBe(-1)
        // Then 0 V: both the loss-of-grid time and the fast row's clearing time are up in one reading.
        const at = hold(m, 1000 + lowMs + STEP_MS, lossMs, 0, 0)
        expect(at).toBe(lossMs)
        expect(1000 + lowMs + STEP_MS + at - 1000).toBe(uv2.clearMs)
        expect(m.trip).toBe("loss_of_grid")
    })
})

describe("GridMonitor: a voltage exactly at the loss-of-grid threshold", () => {
    it("is a live grid: its frequency rows run (an under-frequency trips at its own clearing time, before the under-voltage row)", () => {
        const uf2 = G.underFrequency.reduce((a, r) => (r.clearMs < a.clearMs ? r : a))
        const m = booted()
        const at = hold(m, 1000, 5000, voltsAt(G.lossOfGrid.belowPu), uf2.hz - 0.5)
        expect(m.live).toBe(true)
        expect(at).toBe(uf2.clearMs)
        expect(m.trip).toBe("under_frequency")
    })
})
