import { describe, expect, it } from "vitest"
import { OutletSupply } from "../../src/core/outlets/outlet-supply"

// Readings taken at 10 ms, decided at 0 ms unless told (a reading after the command).
const inp = (outletOn: boolean[], outletW: number[], estop = false, nowMs = 0, atMs = 10) => ({
    outletOn,
    outletW,
    outletAtMs: outletW.map(() => atMs),
    nowMs,
    weldedPowerW: 100,
    relayReleaseMs: 10,
    estop,
})

describe("outlet supply (the second means)", () => {
    it("stays on while every outlet commanded off draws nothing", () => {
        const s = new OutletSupply()
        expect(s.update(inp([true, false], [1400, 0]))).toBe(true)
        expect(s.update(inp([false, false], [50, NaN]))).toBe(true)
    })
    it("cuts at once when an outlet commanded off still draws (welded), and stays cut while the draw is hidden", () => {
        const s = new OutletSupply()
        expect(s.update(inp([false, true], [5000, 200]))).toBe(false)
        expect(s.update(inp([false, true], [0, 0]))).toBe(false) // the supply is cut: no draw to see
        expect(s.welded).toEqual([true, false])
    })
    it("comes back when the protection turns the welded outlet on again (its reset), and cuts again on the next weld", () => {
        const s = new OutletSupply()
        s.update(inp([false, true], [5000, 0]))
        expect(s.update(inp([true, true], [0, 0]))).toBe(true)
        expect(s.update(inp([false, true], [900, 0]))).toBe(false)
    })
    it("a reading taken before the relay was commanded off proves nothing (the load that made the protection cut it)", () => {
        const s = new OutletSupply()
        expect(s.update(inp([true, true], [600, 500], false, 0, 0))).toBe(true)
        // Shed at 20 ms: the reading is still the one from 0 ms.
        expect(s.update(inp([true, false], [600, 500], false, 20, 0))).toBe(true)
        // A report 5 ms after the command (the relay still releasing) proves nothing either.
        expect(s.update(inp([true, false], [600, 500], false, 40, 25))).toBe(true)
        // The next report (30 ms) shows the relay open: still supplied.
        expect(s.update(inp([true, false], [600, 0], false, 40, 30))).toBe(true)
        // The same outlet's next report still delivering would be a weld.
        expect(s.update(inp([true, false], [600, 500], false, 60, 50))).toBe(false)
    })
    it("the e-stop cuts it; a stale meter (NaN) never proves a weld", () => {
        expect(new OutletSupply().update(inp([true, true], [0, 0], true))).toBe(false)
        expect(new OutletSupply().update(inp([false, false], [NaN, NaN]))).toBe(true)
    })
})
