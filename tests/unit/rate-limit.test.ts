// The HEMS command token bucket, exact: refill from the previous admission time, a clock that
// steps back neither refills nor drains, the `limiting` episode flag. (The burst and the bound
// over arbitrary arrival times are in mqtt-session.test.ts.)
import { describe, expect, it } from "vitest"
import { RateLimit } from "../../src/core/hems/rate-limit"

describe("command rate limit, exact", () => {
    it("not limiting before the first refusal; limiting from a refusal until the next admission", () => {
        const r = new RateLimit(1, 1)
        expect(r.limiting).toBe(false)
        expect(r.refused).toBe(0)
        expect(r.take(0)).toBe(true)
        expect(r.limiting).toBe(false)
        expect(r.take(10)).toBe(false)
        expect(r.take(20)).toBe(false)
        expect(r.limiting).toBe(true)
        expect(r.refused).toBe(2)
        expect(r.take(1000)).toBe(true)
        expect(r.limiting).toBe(false)
        expect(r.refused).toBe(2)
    })

    it("refills from the first take, also when that was at time 0", () => {
        const r = new RateLimit(1000, 1) // one token per ms
        expect(r.take(0)).toBe(true)
        expect(r.take(0)).toBe(false)
        expect(r.take(1)).toBe(true)
        const slow = new RateLimit(1, 1)
        expect(slow.take(0)).toBe(true)
        expect(slow.take(500)).toBe(false) // half a token: refused, but the time is kept
        expect(slow.take(1000)).toBe(true) // half + half
    })

    it("a clock that steps back neither drains tokens nor moves the refill start back", () => {
        const r = new RateLimit(10, 2)
        expect(r.take(1000)).toBe(true) // 1 token left
        expect(r.take(500)).toBe(true) // back in time: still the token left, no negative refill
        expect(r.take(500)).toBe(false)
        // The refill counts from 1000 (the latest time seen), not from 500: 50 ms give 0.5 token.
        expect(r.take(1050)).toBe(false)
        expect(r.take(1100)).toBe(true)

        const one = new RateLimit(1, 1)
        expect(one.take(1000)).toBe(true)
        expect(one.take(0)).toBe(false)
        expect(one.take(1500)).toBe(false) // 0.5 s after 1000, not 1.5 s after 0
        expect(one.take(2000)).toBe(true)
    })

    it("refill is capped at burst however long the pause", () => {
        const r = new RateLimit(10, 3)
        for (let i = 0; i < 3; i++) expect(r.take(0)).toBe(true)
        expect(r.take(0)).toBe(false)
        const passed = [1e6, 1e6, 1e6, 1e6].map(t => r.take(t))
        expect(passed).toEqual([true, true, true, false])
    })
})
