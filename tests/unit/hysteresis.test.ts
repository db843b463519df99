// The timing primitive (src/core/common/hysteresis.ts): time hysteresis (held-for), level
// hysteresis (band) and the since-timestamp, each against the hand-written pattern it replaced.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Hysteresis } from "../../src/core/common/hysteresis"

const RUNS = Number(process.env.FC_RUNS ?? 1000)

describe("Hysteresis: held for N ms", () => {
    it("becomes true once the request has held for trueAfterMs, and drops at once with falseAfterMs = 0", () => {
        const h = new Hysteresis(false, 300, 0, 0)
        expect(h.update(true, 1000)).toBe(false)
        expect(h.update(true, 1299)).toBe(false)
        expect(h.update(true, 1300)).toBe(true)
        expect(h.changedAtMs).toBe(1300)
        expect(h.update(true, 5000)).toBe(true)
        expect(h.changedAtMs).toBe(1300)
        expect(h.update(false, 5001)).toBe(false)
        expect(h.changedAtMs).toBe(5001)
    })

    it("an interrupted request starts over", () => {
        const h = new Hysteresis(false, 300, 0, 0)
        h.update(true, 0)
        h.update(true, 200)
        h.update(false, 250)
        expect(h.update(true, 300)).toBe(false)
        expect(h.update(true, 599)).toBe(false)
        expect(h.update(true, 600)).toBe(true)
    })

    it("a zero hold time follows at once", () => {
        const h = new Hysteresis(false, 0, 0, 0)
        expect(h.update(true, 7)).toBe(true)
        expect(h.update(false, 7)).toBe(false)
    })

    it("both directions have their own hold time", () => {
        const h = new Hysteresis(true, 100, 500, 0)
        expect(h.update(false, 1000)).toBe(true)
        expect(h.update(false, 1499)).toBe(true)
        // Requesting the current state cancels the pending change.
        expect(h.update(true, 1450)).toBe(true)
        expect(h.update(false, 1500)).toBe(true)
        expect(h.update(false, 2000)).toBe(false)
        expect(h.update(true, 2050)).toBe(false)
        expect(h.update(true, 2150)).toBe(true)
    })

    it("is the hand-written since-timestamp pattern it replaced (property)", () => {
        // The grid monitor's old exceeded(): since = -1; over ? (since < 0 && since = now, now - since >= hold) : (since = -1, false)
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 2000 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 400 })), { maxLength: 60 }), (hold, steps) => {
                const h = new Hysteresis(false, hold, 0, 0)
                let since = -1
                let now = 0
                for (const [over, dt] of steps) {
                    now += dt
                    let want = false
                    if (!over) since = -1
                    else {
                        if (since < 0) since = now
                        want = now - since >= hold
                    }
                    expect(h.update(over, now)).toBe(want)
                }
            }),
            { numRuns: RUNS },
        )
    })
})

describe("Hysteresis: level bands", () => {
    it("sets at one threshold, clears at the other, keeps its state in between", () => {
        const h = new Hysteresis(false, 0, 0, 0)
        const at = (soc: number, now: number) => h.band(soc <= 30, soc > 32, now)
        expect(at(40, 0)).toBe(false)
        expect(at(30, 1)).toBe(true)
        expect(at(31, 2)).toBe(true)
        expect(at(32, 3)).toBe(true)
        expect(at(32.5, 4)).toBe(false)
        expect(at(31, 5)).toBe(false)
    })

    it("set wins when both thresholds hold", () => {
        const h = new Hysteresis(false, 0, 0, 0)
        expect(h.band(true, true, 0)).toBe(true)
    })

    it("keeps a pending timed request in between", () => {
        const h = new Hysteresis(false, 100, 0, 0)
        expect(h.band(true, false, 0)).toBe(false)
        expect(h.band(false, false, 50)).toBe(false)
        expect(h.band(false, false, 100)).toBe(true)
    })

    it("is the hand-written flag pattern it replaced (property)", () => {
        fc.assert(
            fc.property(fc.array(fc.tuple(fc.boolean(), fc.boolean()), { maxLength: 60 }), steps => {
                const h = new Hysteresis(false, 0, 0, 0)
                let flag = false
                let now = 0
                for (const [set, clear] of steps) {
                    if (set) flag = true
                    else if (clear) flag = false
                    expect(h.band(set, clear, now++)).toBe(flag)
                }
            }),
            { numRuns: RUNS },
        )
    })
})

describe("Hysteresis: since-timestamps", () => {
    it("forMs counts from construction, then from the last change", () => {
        const h = new Hysteresis(false, 0, 0, 100)
        expect(h.forMs(150)).toBe(50)
        h.set(true, 200)
        expect(h.forMs(260)).toBe(60)
        h.set(true, 300) // no change: the time keeps counting from 200
        expect(h.forMs(310)).toBe(110)
        expect(h.changedAtMs).toBe(200)
    })

    it("set drops a pending request", () => {
        const h = new Hysteresis(false, 100, 0, 0)
        h.update(true, 0)
        h.set(false, 50)
        expect(h.update(true, 100)).toBe(false) // 100 ms held from 0 would be due now; the request starts over at 100
        expect(h.update(true, 199)).toBe(false)
        expect(h.update(true, 200)).toBe(true)
    })

    it("reset starts over as if the state had been entered then", () => {
        const h = new Hysteresis(true, 100, 0, 0)
        h.update(false, 10)
        h.reset(false, -500)
        expect(h.state).toBe(false)
        expect(h.forMs(0)).toBe(500)
        expect(h.update(true, 1000)).toBe(false)
        expect(h.update(true, 1100)).toBe(true)
    })
})
