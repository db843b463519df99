// LimitSet at its edges: a fresh set, a reason claimed twice in one tick (the tighter bound wins,
// per side), a request exactly on a bound (not restricted), equal lower bounds (the earlier
// reason governs), and the tier of every reason.
import { describe, expect, it } from "vitest"
import { LIMIT_PRIORITY, LimitReason, LimitSet, limitTier } from "../../src/core/v2h/limits"

describe("LimitSet edges", () => {
    it("a fresh set has one slot per reason, nothing in force, governing none", () => {
        const L = new LimitSet()
        const n = LIMIT_PRIORITY.length
        expect(L.loW).toEqual(new Array(n).fill(0))
        expect(L.hiW).toEqual(new Array(n).fill(0))
        expect(L.active).toEqual(new Array(n).fill(false))
        expect(L.mask).toBe(0)
        expect(L.governing).toBe("none")
        expect(L.activeReasons()).toEqual([])
    })

    it("a reason claimed twice keeps the tighter bound on each side", () => {
        const L = new LimitSet()
        L.claim("rating", -6000, 3000)
        L.claim("rating", -2000, 6000) // tighter low, looser high
        const i = LIMIT_PRIORITY.indexOf("rating")
        expect([L.loW[i], L.hiW[i]]).toEqual([-2000, 3000])
        L.claim("rating", -9000, 9000) // looser on both sides: no change
        expect([L.loW[i], L.hiW[i]]).toEqual([-2000, 3000])
        L.claim("rating", -1000, 500) // tighter on both
        expect([L.loW[i], L.hiW[i]]).toEqual([-1000, 500])
        expect(L.resolve(4000)).toBe(500)
        expect(L.resolve(-4000)).toBe(-1000)
        expect(L.governing).toBe("rating")
        expect([L.windowLoW, L.windowHiW]).toEqual([-1000, 500])
    })

    it("after clear, a claim starts afresh (not tightened against the old window)", () => {
        const L = new LimitSet()
        L.claim("rating", -100, 100)
        L.clear()
        L.claim("rating", -6000, 6000)
        expect(L.resolve(5000)).toBe(5000)
        expect(L.resolve(-5000)).toBe(-5000)
    })

    it("a request exactly on a bound is not restricted: governing stays none", () => {
        const L = new LimitSet()
        L.claim("rating", -6000, 6000)
        expect(L.resolve(6000)).toBe(6000)
        expect(L.governing).toBe("none")
        expect(L.resolve(-6000)).toBe(-6000)
        expect(L.governing).toBe("none")
        expect(L.resolve(6001)).toBe(6000)
        expect(L.governing).toBe("rating")
        expect(L.resolve(-6001)).toBe(-6000)
        expect(L.governing).toBe("rating")
    })

    it("at equal lower bounds the earlier (higher-priority) reason governs", () => {
        const L = new LimitSet()
        L.claim("charge_limit", -3000, 1e12)
        L.claim("rating", -3000, 6000)
        L.claim("grid_import_limit", -3000, 1e12)
        expect(L.resolve(-5000)).toBe(-3000)
        expect(L.governing).toBe("rating")
    })

    it("no claims: the window is open and the request passes", () => {
        const L = new LimitSet()
        expect(L.resolve(123456)).toBe(123456)
        expect(L.governing).toBe("none")
        expect(L.windowLoW).toBeLessThanOrEqual(-1e12)
        expect(L.windowHiW).toBeGreaterThanOrEqual(1e12)
    })

    it("the tier of every reason", () => {
        const tiers: Record<string, string> = {}
        for (const r of LIMIT_PRIORITY) tiers[r] = limitTier(r as LimitReason)
        const expected: Record<string, string> = {}
        for (const r of LIMIT_PRIORITY) expected[r] = "safety"
        expected.none = "request"
        expected.outlet_share = "outlet_protection"
        expected.soc_reserve = "soc_reserve"
        expected.charge_limit = "soc_reserve"
        expect(tiers).toEqual(expected)
    })
})
