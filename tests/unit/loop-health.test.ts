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
})
