// The one arbitration place (src/core/v2h/limits.ts).
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { LIMIT_PRIORITY, LIMIT_REASONS, LimitReason, LimitSet, limitCode, limitTier } from "../../src/core/v2h/limits"

const RUNS = Number(process.env.FC_RUNS ?? 1000)

describe("LimitSet", () => {
    it("clamps the request into the intersection and names the claim that bound it", () => {
        const L = new LimitSet()
        L.claim("rating", -6000, 6000)
        L.claim("vehicle_discharge_limit", -1e12, 4000)
        L.claim("soc_reserve", -1e12, 0)
        expect(L.resolve(3000)).toBe(0)
        expect(L.governing).toBe("soc_reserve")
        expect(L.resolve(-7000)).toBe(-6000)
        expect(L.governing).toBe("rating")
        L.clear()
        L.claim("rating", -6000, 6000)
        expect(L.resolve(2500)).toBe(2500)
        expect(L.governing).toBe("none")
        expect(L.resolve(NaN)).toBe(0)
    })

    it("at equal bounds the earlier (higher-priority) reason governs", () => {
        const L = new LimitSet()
        L.claim("soc_reserve", -1e12, 0)
        L.claim("battery_stale", 0, 0)
        L.resolve(1000)
        expect(L.governing).toBe("battery_stale")
    })

    it("keeps 0 W inside every claim (stopping is always allowed)", () => {
        const L = new LimitSet()
        L.claim("no_reverse_flow", -1e12, -300) // house net load below the margin
        L.claim("grid_import_limit", 500, 1e12)
        expect(L.resolve(1000)).toBe(0)
        expect(L.resolve(-1000)).toBe(0)
    })

    it("lists every claim in force in priority order, and the tiers follow the brief", () => {
        const L = new LimitSet()
        L.claim("charge_limit", 0, 1e12)
        L.claim("outlet_share", -1e12, 100)
        L.claim("estop", 0, 0)
        expect(L.activeReasons()).toEqual(["estop", "outlet_share", "charge_limit"])
        expect(L.mask).toBe((1 << 1) | (1 << LIMIT_REASONS.indexOf("outlet_share")) | (1 << LIMIT_REASONS.indexOf("charge_limit")))
        const tiers = LIMIT_PRIORITY.slice(1).map(limitTier)
        // safety ... then outlet protection, then SoC reserve: never out of order.
        const rank = { safety: 0, outlet_protection: 1, soc_reserve: 2, request: 3 }
        for (let i = 1; i < tiers.length; i++) expect(rank[tiers[i]]).toBeGreaterThanOrEqual(rank[tiers[i - 1]])
    })

    it("the target lies inside every active claim and equals the request when the request fits (property)", () => {
        const reasons = LIMIT_PRIORITY.slice(1) as LimitReason[]
        fc.assert(
            fc.property(
                fc.array(fc.record({ r: fc.constantFrom(...reasons), lo: fc.integer({ min: -8000, max: 2000 }), hi: fc.integer({ min: -2000, max: 8000 }) }), { maxLength: 8 }),
                fc.integer({ min: -10000, max: 10000 }),
                (claims, request) => {
                    const L = new LimitSet()
                    for (const c of claims) L.claim(c.r, c.lo, c.hi)
                    const t = L.resolve(request)
                    for (let i = 1; i < LIMIT_PRIORITY.length; i++) {
                        if (!L.active[i]) continue
                        expect(t).toBeGreaterThanOrEqual(L.loW[i])
                        expect(t).toBeLessThanOrEqual(L.hiW[i])
                    }
                    const fits = claims.every(c => request >= Math.min(0, c.lo) && request <= Math.max(0, c.hi))
                    if (fits) {
                        expect(t).toBe(request)
                        expect(L.governing).toBe("none")
                    } else expect(L.governing).not.toBe("none")
                },
            ),
            { numRuns: RUNS },
        )
    })
})

describe("limit reasons: wire codes apart from priority", () => {
    // The codes HEMS clients rely on (limit_reason, bits of limit_mask). Append-only: a new reason
    // gets a new code and a line here; an existing line never changes.
    const PINNED: Record<string, number> = {
        none: 0,
        estop: 1,
        fault: 2,
        battery_stale: 3,
        inverter_stale: 4,
        grid_meter_stale: 5,
        grid_lost: 6,
        grid_reconnecting: 7,
        enter_service_ramp: 8,
        rating: 9,
        over_temperature: 10,
        vehicle_discharge_limit: 11,
        vehicle_charge_limit: 12,
        no_reverse_flow: 13,
        grid_import_limit: 14,
        islanded_limit: 15,
        direction_dwell: 16,
        outlet_share: 17,
        soc_reserve: 18,
        charge_limit: 19,
    }

    it("no published code moves, whatever the priority order", () => {
        for (const [reason, code] of Object.entries(PINNED)) {
            expect(limitCode(reason as LimitReason), reason).toBe(code)
            expect(LIMIT_REASONS[code]).toBe(reason)
        }
    })

    it("every reason has one code and one priority, codes dense from 0 (none first in both)", () => {
        expect([...LIMIT_PRIORITY].sort()).toEqual([...LIMIT_REASONS].sort())
        expect(new Set(LIMIT_REASONS).size).toBe(LIMIT_REASONS.length)
        expect(LIMIT_PRIORITY[0]).toBe("none")
        expect(LIMIT_REASONS[0]).toBe("none")
        for (let c = 0; c < LIMIT_REASONS.length; c++) expect(limitCode(LIMIT_REASONS[c])).toBe(c)
        expect(limitCode("turbo" as LimitReason)).toBe(-1)
    })

    it("a claim sets the mask bit of its wire code", () => {
        for (const r of LIMIT_PRIORITY.slice(1)) {
            const L = new LimitSet()
            L.claim(r, 0, 0)
            expect(L.mask, r).toBe(2 ** limitCode(r))
        }
    })
})
