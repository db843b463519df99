import { describe, expect, it } from "vitest"
import { LoopHealth } from "../../src/core/common/loop-health"

describe("loop health", () => {
    it("lateness is measured from the previous start plus the period; the first run is never late", () => {
        const h = new LoopHealth()
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
        const h = new LoopHealth()
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
        const h = new LoopHealth()
        const m = h.add("mqtt_command", 0, 50)
        h.start(m, 0)
        h.end(m, 10)
        h.start(m, 5000)
        h.end(m, 5080)
        expect(h.get(m)).toMatchObject({ runs: 2, maxLateMs: 0, maxRunMs: 80, overruns: 1 })
    })

    it("is total: unknown loops, an end without a start and NaN times change nothing", () => {
        const h = new LoopHealth()
        const a = h.add("a", 10)
        h.end(a, 5)
        h.start(7, 0)
        h.end(7, 0)
        h.start(a, NaN)
        expect(h.get(a)).toMatchObject({ runs: 0, maxRunMs: 0, overruns: 0 })
        expect(h.get(7)).toBe(null)
        expect(h.json()).toEqual({ a: { runs: 0, max_run_ms: 0, max_late_ms: 0, overruns: 0 } })
    })
})
