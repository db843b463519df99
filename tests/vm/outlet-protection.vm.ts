// The outlet-protection core inside the DeviceScript VM: a representative suite of the
// vitest cases, through the same harness, so a subset or runtime difference shows up here.
// Run by scripts/test-vm.ts with --test --test-self-exit (a failure exits non-zero).
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { BUDGET_W, Loop, TICK_MS, settledLoop } from "../helpers/outlet-harness"

// The VM panics after ~128K opcodes without yielding, so long runs go in slices.
const SLICE_TICKS = 10

async function run(loop: Loop, ms: number) {
    const end = loop.nowMs + ms
    while (loop.nowMs < end) {
        for (let k = 0; k < SLICE_TICKS && loop.nowMs < end; k++) loop.tick()
        await ds.sleep(0)
    }
}

/** How long outlet's load was delivered before the cut, ms; -1 if not cut within maxMs. */
async function msUntilCut(loop: Loop, outlet: number, maxMs: number) {
    const start = loop.nowMs
    while (loop.nowMs - start < maxMs) {
        for (let k = 0; k < SLICE_TICKS; k++) {
            if (!loop.tick().outletOn[outlet - 1]) return loop.nowMs - start
        }
        await ds.sleep(0)
    }
    return -1
}

async function cycleSwitch(loop: Loop, offMs: number) {
    loop.switchOn = false
    await run(loop, offMs)
    loop.switchOn = true
    loop.tick()
}

function within(actual: number, lo: number, hi: number) {
    if (!(actual >= lo && actual <= hi)) throw new Error("expected " + actual + " within " + lo + ".." + hi)
}

describe("outlet protection in the VM", () => {
    test("r = 1.5 trips along the inverse curve after about 24 s", async () => {
        const loop = settledLoop()
        loop.demandW[0] = 1.5 * BUDGET_W
        within(await msUntilCut(loop, 1, 120000), 24000 * 0.95, 24000 * 1.05)
        expect(loop.reason(1)).toBe("overload_inverse")
    })

    test("r = 2.0 trips after about 10 s", async () => {
        const loop = settledLoop()
        loop.demandW[0] = 2.0 * BUDGET_W
        within(await msUntilCut(loop, 1, 60000), 9500, 10500)
    })

    test("the warning band trips after 60 s", async () => {
        const loop = settledLoop()
        loop.demandW[0] = 1.05 * BUDGET_W
        within(await msUntilCut(loop, 1, 120000), 57000, 63000)
        expect(loop.reason(1)).toBe("overload_sustained")
    })

    test("inrush r = 2.0 for 0.5 s from cold does not trip", async () => {
        const loop = settledLoop()
        loop.demandW[0] = 2.0 * BUDGET_W
        await run(loop, 500)
        loop.demandW[0] = 600
        await run(loop, 30000)
        expect(loop.outletOn(1)).toBe(true)
        expect(loop.tripReasons().length).toBe(0)
    })

    test("r >= 3 is cut at the first tick", async () => {
        const loop = settledLoop()
        loop.demandW[0] = 3 * BUDGET_W
        loop.tick()
        expect(loop.reason(1)).toBe("overload_instant")
    })

    test("r > 2 beyond 0.5 s is cut within one tick", async () => {
        const loop = settledLoop()
        loop.demandW[0] = 2.4 * BUDGET_W
        within(await msUntilCut(loop, 1, 5000), 501, 500 + TICK_MS)
        expect(loop.reason(1)).toBe("overload_short")
    })

    test("sheds the lower-priority outlet and keeps the other", async () => {
        const loop = settledLoop()
        loop.demandW[0] = 800
        loop.demandW[1] = 900
        await msUntilCut(loop, 2, 600000)
        expect(loop.reason(2)).toBe("shed")
        expect(loop.outletOn(1)).toBe(true)
    })

    test("latches until the switch is OFF for 5 s, then ON", async () => {
        const loop = settledLoop()
        loop.demandW[0] = 3 * BUDGET_W
        loop.tick()
        loop.demandW[0] = 0
        await cycleSwitch(loop, 4000)
        expect(loop.outletOn(1)).toBe(false)
        await cycleSwitch(loop, 5000)
        expect(loop.outletOn(1)).toBe(true)
    })

    test("a reset with the overload still present trips again at once", async () => {
        const loop = settledLoop()
        loop.demandW[0] = 3 * BUDGET_W
        loop.tick()
        loop.demandW[0] = 1.3 * BUDGET_W
        await cycleSwitch(loop, 5000)
        within(await msUntilCut(loop, 1, 10000), 0, 500 + TICK_MS)
        expect(loop.reason(1)).toBe("overload_on_reset")
    })

    test("SoC floor: alarm, cut after 30 s, back at floor + 2 %", async () => {
        const loop = settledLoop()
        loop.socPct = 30
        loop.tick()
        expect(loop.core.status.alarmReason).toBe("soc_floor")
        within(await msUntilCut(loop, 1, 60000), 30000 - TICK_MS, 30000)
        loop.socPct = 31.5
        await run(loop, 1000)
        expect(loop.outletOn(1)).toBe(false)
        loop.socPct = 32
        loop.tick()
        expect(loop.outletOn(1)).toBe(true)
    })

    test("a bad SoC floor is rejected and names the value", async () => {
        const loop = settledLoop()
        const err = loop.core.setSocFloor(95)
        expect(err.indexOf("95") >= 0).toBe(true)
        expect(loop.core.status.socFloorPct).toBe(30)
    })

    test("a stale meter turns its outlet off until fresh readings return", async () => {
        const loop = settledLoop()
        loop.meterFresh[0] = false
        within(await msUntilCut(loop, 1, 5000), 1001, 1000 + TICK_MS)
        expect(loop.reason(1)).toBe("meter_stale")
        expect(loop.outletOn(2)).toBe(true)
        loop.meterFresh[0] = true
        loop.tick()
        expect(loop.outletOn(1)).toBe(true)
    })
})
