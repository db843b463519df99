// The V2H core inside the DeviceScript VM: a representative suite of the vitest cases through the
// same DeviceScript-subset harness, so a language-subset or runtime difference shows up here.
// Run by scripts/test-vm.ts with --test --test-self-exit (a failure exits non-zero).
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { DEVS } from "../../src/config/devs.gen"
import { parseCommand } from "../../src/core/hems/command"
import { LimitSet } from "../../src/core/v2h/limits"
import { V2hLoop, v2hConfig } from "../helpers/v2h-harness"

// The VM panics after ~128K opcodes without yielding: long runs go in slices.
const SLICE_TICKS = 4
const V = DEVS.v2h

async function run(l: V2hLoop, ms: number) {
    const end = l.nowMs + ms
    while (l.nowMs < end) {
        for (let k = 0; k < SLICE_TICKS && l.nowMs < end; k++) l.tick()
        await ds.sleep(0)
    }
}

async function booted(cfg?: any) {
    const l = new V2hLoop(cfg)
    await run(l, 1000)
    return l
}

function within(actual: number, lo: number, hi: number) {
    if (!(actual >= lo && actual <= hi)) throw new Error("expected " + actual + " within " + lo + ".." + hi)
}

describe("V2H core in the VM", () => {
    test("the command parser rejects bad payloads with the key and value", () => {
        expect(parseCommand('{"mode":"setpoint","setpoint_w":1e999}', DEVS).error).toBe("setpoint_w = Infinity: must be a finite number")
        expect(parseCommand("{mode", DEVS).error.indexOf("not valid JSON")).toBe(0)
        expect(parseCommand('{"reserve_pct":95}', DEVS).error).toBe("reserve_pct = 95: out of range 10..90 %")
        expect(parseCommand('{"power_w":5}', DEVS).error.indexOf('unknown key "power_w"')).toBe(0)
        expect(parseCommand('{"mode":"setpoint","setpoint_w":-2500}', DEVS).command.setpointW).toBe(-2500)
    })

    test("arbitration clamps and names the binding limit", () => {
        const L = new LimitSet()
        L.claim("rating", -6000, 6000)
        L.claim("soc_reserve", -1e12, 0)
        expect(L.resolve(3000)).toBe(0)
        expect(L.governing).toBe("soc_reserve")
    })

    test("follows a setpoint along the 1 kW/s ramp without overshoot", async () => {
        const l = await booted()
        expect(l.command({ mode: "setpoint", setpoint_w: 3000 })).toBe("")
        await run(l, 2000)
        within(l.sup.status.commandW, 1000, 2000)
        await run(l, 5000)
        expect(l.inverterW).toBe(3000)
        expect(l.sup.status.state).toBe("discharging")
    })

    test("the SoC reserve stops discharge", async () => {
        const l = await booted()
        l.socPct = V.reserve.defaultPct - 1
        l.command({ mode: "setpoint", setpoint_w: 2000 })
        await run(l, 3000)
        expect(l.sup.status.targetW).toBe(0)
        expect(l.sup.status.limitReason).toBe("soc_reserve")
    })

    test("grid loss with backup: 0 W, grid relay open, then islanded supply", async () => {
        const l = await booted()
        l.command({ mode: "setpoint", setpoint_w: 3000 })
        await run(l, 6000)
        l.gridUp = false
        await run(l, DEVS.grid.lossOfGrid.detectMs + 300)
        expect(l.sup.status.state).toBe("backup")
        await run(l, 8000)
        expect(l.gridRelayClosed).toBe(false)
        expect(l.inverterW).toBe(Math.min(l.houseW, V.backup.islandedLimitW))
    })

    test("e-stop opens the contactor at once and stays latched until released and cleared", async () => {
        const l = await booted(v2hConfig())
        l.command({ mode: "setpoint", setpoint_w: 3000 })
        await run(l, 6000)
        l.estop = true
        l.tick()
        expect(l.sup.status.contactorCmd).toBe(false)
        expect(l.sup.status.fault).toBe("estop")
        expect(l.sup.clearFaults(l.nowMs).indexOf("e-stop is still pressed") >= 0).toBe(true)
        l.estop = false
        l.tick()
        expect(l.sup.clearFaults(l.nowMs)).toBe("")
        expect(l.sup.status.state).toBe("idle")
    })
})
