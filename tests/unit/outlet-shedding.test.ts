// Which outlets a cut takes (src/core/outlets/shedding.ts), on its own: the load ratio, the shed
// order around the high-priority outlet, and the smallest cut (one outlet lowest priority first,
// then the k lowest together, all as the last resort), at the budget's edge.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { chooseCut, loadRatio, shedOrder } from "../../src/core/outlets/shedding"

const RUNS = Number(process.env.FC_RUNS ?? 1000)
const O = { budgetPowerW: 1500, budgetCurrentA: 15 } as any

describe("loadRatio", () => {
    it("is the larger of the power and the current ratios", () => {
        expect(loadRatio(O, 750, 3)).toBe(0.5)
        expect(loadRatio(O, 300, 12)).toBe(0.8)
        expect(loadRatio(O, 3000, 15)).toBe(2)
        expect(loadRatio(O, 0, 0)).toBe(0)
    })

    it("rounds float noise away at 1e-9, so a band edge is not missed", () => {
        expect(loadRatio(O, 1500 * (1 + 1e-12), 0)).toBe(1)
        expect(loadRatio(O, 0, 0.1 + 0.2 + 14.7)).toBe(1) // 15.000000000000002 A
        expect(loadRatio(O, 1500 * (1 + 2e-9), 0)).toBeGreaterThan(1)
        expect(loadRatio(O, 1234.5678, 0)).toBe(Math.round((1234.5678 / 1500) * 1e9) / 1e9)
    })
})

describe("shedOrder", () => {
    it("lists the outlets lowest priority first, the high-priority outlet (1-based) last", () => {
        expect(shedOrder(1, 1)).toEqual([0])
        expect(shedOrder(2, 1)).toEqual([1, 0])
        expect(shedOrder(2, 2)).toEqual([0, 1])
        expect(shedOrder(3, 2)).toEqual([0, 2, 1])
        expect(shedOrder(4, 1)).toEqual([1, 2, 3, 0])
        expect(shedOrder(4, 4)).toEqual([0, 1, 2, 3])
    })
})

describe("chooseCut", () => {
    const prio = [0, 1, 2] // outlet 3 is the high-priority one
    const on = [true, true, true]
    const cut = (pW: number[], iA: number[] = [0, 0, 0], avail = on, sumP = pW.reduce((a, b) => a + b, 0), sumI = iA.reduce((a, b) => a + b, 0)) =>
        chooseCut(O, prio, avail, pW, iA, sumP, sumI)

    it("one outlet when one is enough: the lowest priority that is", () => {
        expect(cut([400, 400, 900])).toEqual([0])
        expect(cut([100, 800, 900])).toEqual([1]) // outlet 1 alone is not enough, outlet 2 alone is
        expect(cut([100, 100, 1600])).toEqual([2]) // only the high-priority one alone is enough
    })

    it("exactly at the budget after the cut is enough", () => {
        expect(cut([300, 700, 800])).toEqual([0]) // 1,500 W left
        expect(cut([100, 800, 1400])).toEqual([1]) // 2,200 W without outlet 1; 1,500 W without outlet 2
        expect(cut([0, 0, 0], [5, 5, 10])).toEqual([0]) // 15 A left
    })

    it("the k lowest together when no single outlet is enough", () => {
        expect(cut([1000, 1000, 1000])).toEqual([0, 1])
        expect(cut([800, 800, 800, 0].slice(0, 3), [0, 0, 0], on, 2400 + 1400)).toEqual([0, 1, 2]) // 1,400 W that no outlet carries
        expect(cut([0, 0, 0], [10, 10, 10])).toEqual([0, 1])
        expect(cut([500, 500, 500], [0, 0, 0], on, 2500)).toEqual([0, 1]) // exactly 1,500 W left: enough
    })

    it("all outlets that are on, when nothing less will do", () => {
        expect(cut([100, 100, 100], [0, 0, 0], on, 5000)).toEqual([0, 1, 2])
        expect(cut([100, 100, 100], [0, 0, 0], [false, true, true], 5000)).toEqual([1, 2])
    })

    it("never cuts an outlet that is off", () => {
        expect(cut([400, 400, 900], [0, 0, 0], [false, true, true], 1300 + 400)).toEqual([1])
        expect(cut([1000, 1000, 1000], [0, 0, 0], [true, false, true], 2000 + 500)).toEqual([0])
        expect(cut([1000, 1000, 1000], [0, 0, 0], [false, false, false])).toEqual([])
    })

    it("the cut is minimal and leaves the load within budget whenever cutting everything would (property)", () => {
        fc.assert(
            fc.property(
                fc.array(fc.record({ p: fc.integer({ min: 0, max: 2000 }), i: fc.integer({ min: 0, max: 20 }), on: fc.boolean() }), { minLength: 1, maxLength: 4 }),
                fc.integer({ min: 0, max: 3 }),
                (outs, hpRaw) => {
                    const n = outs.length
                    const order = shedOrder(n, (hpRaw % n) + 1)
                    const pW = outs.map(o => o.p)
                    const iA = outs.map(o => o.i)
                    const avail = outs.map(o => o.on)
                    let sumP = 0
                    let sumI = 0
                    outs.forEach(o => {
                        if (o.on) {
                            sumP += o.p
                            sumI += o.i
                        }
                    })
                    const c = chooseCut(O, order, avail, pW, iA, sumP, sumI)
                    for (const i of c) expect(avail[i]).toBe(true)
                    expect(new Set(c).size).toBe(c.length)
                    const left = (cutSet: number[]) =>
                        loadRatio(
                            O,
                            sumP - cutSet.reduce((a, i) => a + pW[i], 0),
                            sumI - cutSet.reduce((a, i) => a + iA[i], 0),
                        )
                    expect(left(c)).toBeLessThanOrEqual(1)
                    const onIdx = order.filter(i => avail[i])
                    if (c.length > 1) {
                        // no single outlet would have been enough
                        for (const i of onIdx) expect(left([i])).toBeGreaterThan(1)
                        // and no shorter prefix of the order
                        for (let k = 1; k < c.length; k++) expect(left(onIdx.slice(0, k))).toBeGreaterThan(1)
                        expect(c).toEqual(onIdx.slice(0, c.length))
                    }
                    if (c.length === 1) {
                        // the first outlet in the order that is enough alone
                        const first = onIdx.find(i => left([i]) <= 1)
                        expect(c[0]).toBe(first)
                    }
                },
            ),
            { numRuns: RUNS },
        )
    })
})
