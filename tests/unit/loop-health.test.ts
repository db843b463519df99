import { describe, expect, it } from "vitest"
import { LoopHealth } from "../../src/core/common/loop-health"

describe("loop health", () => {
    it("lateness is measured from the previous start plus the period; the first run is never late", () => {
        const h = new LoopHealth(10_000)
        const p = h.add("protection", 20)
        h.start(p, 1000)
        h.end(p, 1002)
        h.start(p, 1020)
        h.end(p, 1021)
        h.start(p, 1047) // 7 ms late
        h.end(p, 1050)
        const s = h.get(p)
        expect(s.runs).toBe(3)
        expect(s.maxLateMs).toBe(7)
        expect(s.maxRunMs).toBe(3)
        expect(s.overruns).toBe(0)
    })

    it("a run longer than the period and a start a whole period late are overruns", () => {
        const h = new LoopHealth(10_000)
        const v = h.add("v2h", 100)
        h.start(v, 0)
        h.end(v, 150) // longer than the period
        h.start(v, 300) // 200 ms late: a tick missed
        h.end(v, 310)
        expect(h.get(v).overruns).toBe(2)
        expect(h.get(v).maxLateMs).toBe(200)
        expect(h.totalOverruns()).toBe(2)
    })

    it("an event handler has no lateness and its own budget", () => {
        const h = new LoopHealth(10_000)
        const m = h.add("mqtt_command", 0, 50)
        h.start(m, 0)
        h.end(m, 10)
        h.start(m, 5000)
        h.end(m, 5080)
        expect(h.get(m)).toMatchObject({ runs: 2, maxLateMs: 0, maxRunMs: 80, overruns: 1 })
    })

    it("is total: unknown loops, an end without a start and NaN times change nothing", () => {
        const h = new LoopHealth(10_000)
        const a = h.add("a", 10)
        h.end(a, 5)
        h.start(7, 0)
        h.end(7, 0)
        h.start(a, NaN)
        expect(h.get(a)).toMatchObject({ runs: 0, maxRunMs: 0, overruns: 0 })
        expect(h.get(7)).toBe(null)
        expect(h.json()).toEqual({ a: { runs: 0, max_run_ms: 0, max_late_ms: 0, recent_late_ms: 0, overruns: 0 } })
        expect(h.recentLateMs(7)).toBe(0)
    })

    it("recent lateness forgets the boot: the worst of the current and the previous window only", () => {
        const h = new LoopHealth(1000)
        const p = h.add("protection", 20)
        let t = 0
        const tick = (lateMs: number) => {
            t += 20 + lateMs
            h.start(p, t)
            h.end(p, t + 1)
        }
        h.start(p, t)
        tick(300) // the boot's 300 ms
        expect(h.recentLateMs(p)).toBe(300)
        while (t < 1500) tick(0) // into the second window: the first (with the 300 ms) is the previous
        expect(h.recentLateMs(p)).toBe(300)
        tick(4)
        while (t < 2600) tick(0) // third window: the boot's window is gone, the 4 ms one is the previous
        expect(h.recentLateMs(p)).toBe(4)
        expect(h.get(p).maxLateMs).toBe(300)
        expect(h.json().protection).toMatchObject({ max_late_ms: 300, recent_late_ms: 4 })
    })

    it("a loop that stopped for two windows has nothing recent; the since-boot figure stays", () => {
        const h = new LoopHealth(1000)
        const p = h.add("v2h", 100)
        h.start(p, 0)
        h.start(p, 150) // 50 ms late
        expect(h.recentLateMs(p)).toBe(50)
        h.start(p, 5000) // 4750 ms late: that lateness is the recent one
        expect(h.recentLateMs(p)).toBe(4750)
        const q = h.add("idle", 100)
        h.start(q, 0)
        h.start(q, 130)
        h.start(q, 3000) // windows with no start in between: only this start's own lateness counts
        expect(h.recentLateMs(q)).toBe(2770)
        h.start(q, 3100)
        h.start(q, 4200) // next window: the previous one held 2770
        expect(h.recentLateMs(q)).toBe(2770)
    })

    it("a budget must be positive to count; without one the period is the budget, and a run of exactly the budget is no overrun", () => {
        const h = new LoopHealth(10_000)
        const none = h.add("none", 20)
        const zero = h.add("zero", 20, 0)
        const neg = h.add("neg", 20, -5)
        const own = h.add("own", 20, 50)
        for (const i of [none, zero, neg, own]) {
            h.start(i, 0)
            h.end(i, 20) // exactly the period
        }
        expect([none, zero, neg, own].map(i => h.get(i).budgetMs)).toEqual([20, 20, 20, 50])
        expect(h.totalOverruns()).toBe(0)
        h.start(none, 20) // on time
        h.end(none, 41) // one ms over
        expect(h.get(none).overruns).toBe(1)
    })

    it("a start exactly one period late counts as a missed tick", () => {
        const h = new LoopHealth(10_000)
        const p = h.add("protection", 20)
        h.start(p, 0)
        h.start(p, 39) // 19 ms late: not yet a whole period
        expect(h.get(p).overruns).toBe(0)
        h.start(p, 79) // 20 ms late
        expect(h.get(p).overruns).toBe(1)
    })

    it("the longest run is the longest, not the last; NaN times at start or end are ignored", () => {
        const h = new LoopHealth(10_000)
        const p = h.add("v2h", 100)
        h.start(p, 0)
        h.end(p, 10)
        h.start(p, 100)
        h.start(p, NaN)
        h.end(p, NaN)
        h.end(p, 125) // 25 ms from the start at 100 (the NaN start changed nothing)
        expect(h.get(p)).toMatchObject({ runs: 2, maxRunMs: 25, maxLateMs: 0 })
        h.start(p, 200)
        h.end(p, 203)
        expect(h.get(p)).toMatchObject({ runs: 3, maxRunMs: 25, maxLateMs: 0 })
    })

    it("windows roll exactly windowMs after they began, also for the first one started at 0", () => {
        const h = new LoopHealth(1000)
        const p = h.add("protection", 100)
        h.start(p, 0)
        h.start(p, 650) // 550 ms late, in the window [0, 1000)
        for (let t = 700; t <= 1900; t += 100) h.start(p, t === 1000 ? 1000 : t)
        expect(h.recentLateMs(p)).toBe(550) // [1000, 2000) now; [0, 1000) is the previous
        h.start(p, 2000) // exactly two windows: [0, 1000) is gone
        expect(h.recentLateMs(p)).toBe(0)
        expect(h.get(p).maxLateMs).toBe(550)
    })

    it("after a silence of two windows or more, the window before it is not recent any more", () => {
        const h = new LoopHealth(1000)
        const p = h.add("v2h", 100)
        h.start(p, 0)
        h.start(p, 5100) // a 5 s stall: 5000 ms late (its window began at 5100)
        expect(h.recentLateMs(p)).toBe(5000)
        h.start(p, 7100) // exactly 2 windows later: 1900 ms late; the stall's window is not the previous one
        expect(h.recentLateMs(p)).toBe(1900)
        const q = h.add("other", 100)
        h.start(q, 0)
        h.start(q, 5100)
        h.start(q, 6099) // 899 ms late, within 2 windows of the stall's window: it is the previous one
        expect(h.recentLateMs(q)).toBe(5000)
    })
})

