// Reconnect backoff, exact figures: the jitter is applied where the base is above the minimum
// (the tests in mqtt-link.test.ts check the bounds and the doubling; these pin the arithmetic).
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Backoff } from "../../src/core/common/backoff"

const RUNS = Number(process.env.FC_RUNS ?? 1000)
const cfg = { backoffMinMs: 1000, backoffMaxMs: 60000, backoffJitterPct: 50 }

/** The delay of the (failures+1)-th attempt with random value r. */
function delayAfter(failures: number, r: number, c = cfg): number {
    const b = new Backoff(c)
    for (let i = 0; i < failures; i++) b.nextDelayMs(0)
    return b.nextDelayMs(r)
}

describe("reconnect backoff jitter", () => {
    it("shortens the base by jitterPct * r: base 8 s, 50 %, r = 0.5 gives 6 s", () => {
        expect(delayAfter(3, 0.5)).toBe(6000)
        expect(delayAfter(3, 0.25)).toBe(7000)
        expect(delayAfter(6, 0.5)).toBe(45000) // the base is capped at 60 s first
    })

    it("r = 1 and above is out of range and counts as 0: the full base, not a shortened one", () => {
        for (const r of [1, 1.5, 5, -0.5, NaN, Infinity]) expect(delayAfter(3, r)).toBe(8000)
    })

    it("a value just below 1 is in range and shortens by almost the full jitter", () => {
        expect(delayAfter(3, 0.999)).toBe(Math.round(8000 * (1 - 0.5 * 0.999)))
    })

    it("never below the minimum even with 100 % jitter", () => {
        const c = { ...cfg, backoffJitterPct: 100 }
        expect(delayAfter(4, 0.99, c)).toBe(1000)
        expect(delayAfter(4, 0.5, c)).toBe(8000)
    })

    it("every delay is the capped doubled base shortened by exactly the jitter", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 0, max: 12 }),
                fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
                fc.integer({ min: 0, max: 100 }),
                (failures, r, pct) => {
                    const c = { ...cfg, backoffJitterPct: pct }
                    const base = Math.min(c.backoffMaxMs, c.backoffMinMs * 2 ** failures)
                    expect(delayAfter(failures, r, c)).toBe(Math.max(c.backoffMinMs, Math.round(base * (1 - (pct / 100) * r))))
                },
            ),
            { numRuns: RUNS },
        )
    })

    it("counts failures and starts again after reset", () => {
        const b = new Backoff(cfg)
        b.nextDelayMs(0)
        b.nextDelayMs(0)
        expect(b.failures).toBe(2)
        b.reset()
        expect(b.failures).toBe(0)
        expect(b.nextDelayMs(0.5)).toBe(1000)
        expect(b.nextDelayMs(0.5)).toBe(1500)
    })
})
