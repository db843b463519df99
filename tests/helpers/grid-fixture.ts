// Shared by the grid monitor's tests: the IEEE 1547-2018 category III table of devs.json, a
// monitor booted on an in-window reading, and a constant reading held until the grid trips.
import { expect } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { GridMonitor } from "../../src/core/v2h/grid-monitor"

export const G = DEVS.grid
export const V0 = G.nominalVoltageV
export const F0 = G.nominalFrequencyHz
/** The meter's reading period in these tests, ms. */
export const STEP_MS = 20

/** Feeds a constant reading from t0 for ms; returns the time of the first "tripped" after t0, or -1. */
export function hold(m: GridMonitor, t0: number, ms: number, v: number, f: number): number {
    for (let t = t0; t <= t0 + ms; t += STEP_MS) if (m.update(t, v, f) === "tripped") return t - t0
    return -1
}

/** A monitor that started service on an in-window reading at 0 ms (power-up: no delay, no ramp). */
export function booted(cfg: { grid: typeof G } = DEVS): GridMonitor {
    const m = new GridMonitor(cfg)
    expect(m.update(0, V0, F0)).toBe("ok")
    expect(m.rampFraction).toBe(1)
    return m
}

/** A reading held from 1000 ms trips at `clearMs` (within one reading), reporting `trip`. */
export function expectTripsAt(m: GridMonitor, v: number, f: number, clearMs: number, trip: string) {
    const t = hold(m, 1000, clearMs + 1000, v, f)
    expect(t).toBeGreaterThanOrEqual(clearMs)
    expect(t).toBeLessThanOrEqual(clearMs + STEP_MS)
    expect(m.trip).toBe(trip)
}
