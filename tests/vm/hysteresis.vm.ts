// The timing primitive inside the DeviceScript VM (the supervisor, the grid monitor and the modes
// rely on it there): held-for, level bands and since-timestamps, as in tests/unit/hysteresis.test.ts.
// Run by scripts/test-vm.ts with --test --test-self-exit (a failure exits non-zero).
import { describe, expect, test } from "@devicescript/test"
import { Hysteresis } from "../../src/core/common/hysteresis"

describe("Hysteresis in the VM", () => {
    test("held for N ms, dropping at once", () => {
        const h = new Hysteresis(false, 300, 0, 0)
        expect(h.update(true, 1000)).toBe(false)
        expect(h.update(true, 1299)).toBe(false)
        expect(h.update(true, 1300)).toBe(true)
        expect(h.changedAtMs).toBe(1300)
        expect(h.update(false, 1301)).toBe(false)
        expect(h.update(true, 1400)).toBe(false)
    })
    test("per-direction hold times; requesting the state cancels a pending change", () => {
        const h = new Hysteresis(true, 100, 500, 0)
        expect(h.update(false, 1000)).toBe(true)
        expect(h.update(true, 1450)).toBe(true)
        expect(h.update(false, 1500)).toBe(true)
        expect(h.update(false, 2000)).toBe(false)
    })
    test("level band keeps its state between the thresholds", () => {
        const h = new Hysteresis(false, 0, 0, 0)
        expect(h.band(false, true, 0)).toBe(false)
        expect(h.band(true, false, 1)).toBe(true)
        expect(h.band(false, false, 2)).toBe(true)
        expect(h.band(false, true, 3)).toBe(false)
    })
    test("since-timestamps: set, reset, forMs", () => {
        const h = new Hysteresis(false, 0, 0, 100)
        expect(h.forMs(150)).toBe(50)
        h.set(true, 200)
        h.set(true, 300)
        expect(h.forMs(310)).toBe(110)
        h.reset(false, -500)
        expect(h.forMs(0)).toBe(500)
    })
})
