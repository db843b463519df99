import { describe, expect, it } from "vitest"
import { OutletSupply } from "../../src/core/outlets/outlet-supply"

// Readings taken at atMs (default 10 ms); relay release time 10 ms.
const inp = (outletOn: boolean[], outletW: number[], estop = false, atMs = 10) => ({
    outletOn,
    outletW,
    outletAtMs: outletW.map(() => atMs),
    weldedPowerW: 100,
    relayReleaseMs: 10,
    estop,
})
/** A supply whose outlets' relays were written as `on` at 0 ms. */
function written(on: boolean[]): OutletSupply {
    const s = new OutletSupply()
    on.forEach((o, i) => s.written(i, o, 0))
    return s
}

describe("outlet supply (the second means)", () => {
    it("stays on while every outlet commanded off draws nothing", () => {
        const s = written([true, false])
        expect(s.update(inp([true, false], [1400, 0]))).toBe(true)
        expect(s.update(inp([false, false], [50, NaN]))).toBe(true)
    })
    it("cuts at once when an outlet written off still draws (welded), and stays cut while the draw is hidden", () => {
        const s = written([false, true])
        expect(s.update(inp([false, true], [5000, 200]))).toBe(false)
        expect(s.update(inp([false, true], [0, 0]))).toBe(false) // the supply is cut: no draw to see
        expect(s.welded).toEqual([true, false])
    })
    it("comes back when the protection turns the welded outlet on again (its reset), and cuts again on the next weld", () => {
        const s = written([false, true])
        s.update(inp([false, true], [5000, 0]))
        expect(s.update(inp([true, true], [0, 0]))).toBe(true)
        s.written(0, false, 20)
        expect(s.update(inp([false, true], [900, 0], false, 30))).toBe(false)
    })
    it("a reading taken before the off command was written, or within the release time, proves nothing", () => {
        const s = written([true, true])
        expect(s.update(inp([true, true], [600, 500], false, 0))).toBe(true)
        // Shed: commanded off, not written yet (the write queues behind others).
        expect(s.update(inp([true, false], [600, 500], false, 0))).toBe(true)
        s.written(1, false, 40)
        // A report 5 ms after the write (the relay still releasing) proves nothing either.
        expect(s.update(inp([true, false], [600, 500], false, 45))).toBe(true)
        // The report after the release time shows the relay open: still supplied.
        expect(s.update(inp([true, false], [600, 0], false, 50))).toBe(true)
        // The same outlet's next report still delivering is a weld.
        expect(s.update(inp([true, false], [600, 500], false, 70))).toBe(false)
    })
    it("the e-stop cuts it; a stale meter (NaN) never proves a weld", () => {
        expect(new OutletSupply().update(inp([true, true], [0, 0], true))).toBe(false)
        expect(written([false, false]).update(inp([false, false], [NaN, NaN]))).toBe(true)
    })
})

describe("outlet supply: edges", () => {
    it("keeps one welded flag per outlet, false until proven, from the first update", () => {
        const s = new OutletSupply()
        expect(s.update(inp([false, false], [0, 0]))).toBe(true)
        expect(s.welded).toEqual([false, false])
    })

    it("an outlet whose relay command was never written proves nothing, even when another one's was", () => {
        const s = new OutletSupply()
        s.written(1, false, 0) // only outlet 2's relay written so far
        expect(s.update(inp([false, false], [900, 0], false, 100))).toBe(true)
        expect(s.welded).toEqual([false, false])
    })

    it("an outlet written ON and then commanded off proves nothing until the off command is written", () => {
        const s = written([true, true])
        expect(s.update(inp([false, true], [900, 0], false, 100))).toBe(true)
        s.written(0, false, 110)
        expect(s.update(inp([false, true], [900, 0], false, 120))).toBe(false)
    })

    it("a draw of exactly weldedPowerW is not a weld; just above it is", () => {
        const s = written([false, true])
        expect(s.update(inp([false, true], [100, 0]))).toBe(true)
        expect(s.update(inp([false, true], [100.5, 0]))).toBe(false)
        expect(s.welded).toEqual([true, false])
    })
})
