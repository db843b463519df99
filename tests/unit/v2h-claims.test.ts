// The limit claims on their own (src/core/v2h/claims.ts): when each limit is in force and how far
// it reaches, with a stub grid monitor and fault latch.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { Claims, batteryFresh, gridFresh, inverterFresh } from "../../src/core/v2h/claims"
import { LIMIT_PRIORITY, LimitReason, LimitSet } from "../../src/core/v2h/limits"
import { V2hSupervisor } from "../../src/core/v2h/supervisor"
import type { V2hInput } from "../../src/core/v2h/io"
import { v2hConfig } from "../helpers/v2h-harness"

const V = DEVS.v2h

function setup(v2h?: any) {
    const cfg = v2hConfig(v2h)
    const st = new V2hSupervisor(cfg).status
    const faults: any = { latched: "none" }
    const grid: any = { state: "ok", rampFraction: 1 }
    const claims = new Claims(cfg, faults, grid)
    const L = new LimitSet()
    const inp: V2hInput = {
        nowMs: 0,
        estop: false,
        socPct: 50,
        batteryVoltageV: 300,
        maxDischargeCurrentA: 10,
        maxChargeCurrentA: 20,
        batteryAtMs: 0,
        inverterW: 1000,
        inverterTempC: 30,
        contactorClosed: true,
        gridRelayClosed: true,
        inverterAtMs: 0,
        gridW: 500,
        gridVoltageV: 100,
        gridFrequencyHz: 60,
        gridAtMs: 0,
        outletsW: 0,
        outletOn: [true, true],
        outletW: [0, 0],
        outletWelded: [false, false],
    }
    const claim = (now = 0, b = true, i = true, g = true) => {
        claims.claim(L, inp, st, now, b, i, g)
        return L.activeReasons()
    }
    const win = (r: LimitReason) => {
        const k = LIMIT_PRIORITY.indexOf(r)
        return L.active[k] ? [L.loW[k], L.hiW[k]] : null
    }
    return { cfg, st, faults, grid, claims, L, inp, claim, win }
}

describe("freshness", () => {
    it("battery: recent and SoC and voltage numbers; inverter: recent and power a number; grid: recent", () => {
        const cfg = v2hConfig()
        const { inp } = setup()
        const T = cfg.socFloor.socTimeoutMs
        expect(batteryFresh(inp, T, cfg)).toBe(true)
        expect(batteryFresh(inp, T + 1, cfg)).toBe(false)
        expect(batteryFresh({ ...inp, socPct: NaN }, 0, cfg)).toBe(false)
        expect(batteryFresh({ ...inp, batteryVoltageV: NaN }, 0, cfg)).toBe(false)
        const R = V.readingTimeoutMs
        expect(inverterFresh(inp, R, cfg)).toBe(true)
        expect(inverterFresh(inp, R + 1, cfg)).toBe(false)
        expect(inverterFresh({ ...inp, inverterW: NaN }, 0, cfg)).toBe(false)
        expect(gridFresh(inp, R, cfg)).toBe(true)
        expect(gridFresh(inp, R + 1, cfg)).toBe(false)
    })
})

describe("safety claims", () => {
    it("the latched e-stop, another latch, and no e-stop input: all 0 W; a bound e-stop input claims nothing", () => {
        const s = setup()
        s.faults.latched = "estop"
        expect(s.claim()).toContain("estop")
        expect(s.win("estop")).toEqual([0, 0])
        s.faults.latched = "contactor_welded"
        expect(s.claim()).toContain("fault")
        expect(s.claim()).not.toContain("estop")
        s.faults.latched = "none"
        s.inp.estopAvailable = false
        expect(s.claim()).toContain("estop")
        s.inp.estopAvailable = true
        expect(s.claim()).not.toContain("estop")
        delete s.inp.estopAvailable
        expect(s.claim()).not.toContain("estop")
        expect(s.claim()).not.toContain("fault")
    })

    it("stale sources and the grid's state; the enter-service ramp scales the rating; islanded only its limit", () => {
        const s = setup()
        expect(s.claim(0, false, true, true)).toContain("battery_stale")
        expect(s.claim(0, true, false, true)).toContain("inverter_stale")
        expect(s.claim(0, true, true, false)).toEqual(expect.arrayContaining(["grid_meter_stale"]))
        s.grid.state = "reconnecting"
        expect(s.claim()).toContain("grid_reconnecting")
        expect(s.claim()).not.toContain("grid_lost")
        s.grid.state = "tripped"
        expect(s.claim()).toContain("grid_lost")
        s.grid.state = "unknown"
        expect(s.claim()).toContain("grid_lost")
        s.grid.state = "ok"
        s.grid.rampFraction = 0.25
        s.claim()
        expect(s.win("enter_service_ramp")).toEqual([-0.25 * V.ratedPowerW, 0.25 * V.ratedPowerW])
        s.grid.rampFraction = 1
        expect(s.claim()).not.toContain("enter_service_ramp")
        expect(s.win("rating")).toEqual([-V.ratedPowerW, V.ratedPowerW])
        s.st.state = "backup"
        s.grid.state = "tripped"
        const r = s.claim(0, true, true, false)
        expect(r).toContain("islanded_limit")
        expect(s.win("islanded_limit")).toEqual([0, V.backup.islandedLimitW])
        for (const x of ["grid_lost", "grid_meter_stale", "no_reverse_flow", "grid_import_limit"]) expect(r).not.toContain(x)
    })

    it("over-temperature: linear derating from startC to stopC, 0 W from stopC until below resumeBelowC", () => {
        const d = V.derating
        const s = setup()
        s.inp.inverterTempC = d.startC
        expect(s.claim()).not.toContain("over_temperature")
        const mid = (d.startC + d.stopC) / 2
        s.inp.inverterTempC = mid
        s.claim()
        const f = (d.stopC - mid) / (d.stopC - d.startC)
        expect(s.win("over_temperature")![1]).toBeCloseTo(V.ratedPowerW * f, 6)
        expect(s.win("over_temperature")![0]).toBeCloseTo(-V.ratedPowerW * f, 6)
        s.inp.inverterTempC = d.stopC
        s.claim()
        expect(s.win("over_temperature")).toEqual([-0, 0])
        s.inp.inverterTempC = d.resumeBelowC // not below: still stopped
        s.claim(1)
        expect(s.win("over_temperature")).toEqual([-0, 0])
        s.inp.inverterTempC = d.resumeBelowC - 0.01
        s.claim(2)
        const f2 = (d.stopC - s.inp.inverterTempC) / (d.stopC - d.startC)
        if (f2 < 1) expect(s.win("over_temperature")![1]).toBeCloseTo(V.ratedPowerW * f2, 6)
        else expect(s.win("over_temperature")).toBeNull()
        s.inp.inverterTempC = NaN
        s.claim(3)
        expect(s.win("over_temperature")).toEqual([-0, 0])
        expect(s.claim(4, true, false, true)).not.toContain("over_temperature")
    })

    it("the vehicle's current limits x voltage (x / efficiency), bad values as 0 A", () => {
        const s = setup()
        s.claim()
        expect(s.win("vehicle_discharge_limit")![1]).toBeCloseTo(10 * 300 * V.inverterEfficiency, 6)
        expect(s.win("vehicle_charge_limit")![0]).toBeCloseTo(-(20 * 300) / V.inverterEfficiency, 6)
        s.inp.maxDischargeCurrentA = NaN
        s.inp.maxChargeCurrentA = -5
        s.claim()
        expect(s.win("vehicle_discharge_limit")![1]).toBe(0)
        expect(s.win("vehicle_charge_limit")![0]).toBe(-0)
        expect(s.claim(0, false)).not.toContain("vehicle_discharge_limit")
    })

    it("no reverse flow and the grid import limit from the house net load (inverter + grid)", () => {
        const s = setup()
        s.claim()
        const house = 1000 + 500
        expect(s.win("no_reverse_flow")![1]).toBe(house - V.exportMarginW)
        expect(s.win("grid_import_limit")![0]).toBe(-(V.maxGridImportW - house))
        s.inp.gridW = NaN
        const r = s.claim()
        expect(r).not.toContain("no_reverse_flow")
        expect(r).not.toContain("grid_import_limit")
        s.inp.gridW = 500
        expect(s.claim(0, true, false, true)).not.toContain("grid_import_limit")
        const e = setup({ reverseFlowAllowed: true })
        expect(e.claim()).not.toContain("no_reverse_flow")
        expect(e.claim()).toContain("grid_import_limit")
    })

    it("direction dwell: after discharging, charging waits directionDwellMs at 0 W (and the other way round)", () => {
        const s = setup()
        s.claims.commandSent(500, 1000)
        s.st.commandW = 500
        expect(s.claim(1100)).not.toContain("direction_dwell") // still commanding
        s.st.commandW = 0
        s.claims.commandSent(0, 1100)
        s.claim(1100)
        expect(s.win("direction_dwell")).toEqual([0, 1e12])
        s.claim(1000 + V.directionDwellMs - 1)
        expect(s.win("direction_dwell")).not.toBeNull()
        expect(s.claim(1000 + V.directionDwellMs)).not.toContain("direction_dwell")
        const c = setup()
        c.claims.commandSent(-500, 1000)
        c.claims.commandSent(0, 1100)
        c.claim(1100)
        expect(c.win("direction_dwell")).toEqual([-1e12, 0])
        const n = setup()
        n.claims.commandSent(0, 0)
        expect(n.claim(0)).not.toContain("direction_dwell")
    })
})

describe("outlets and SoC claims", () => {
    it("the outlets come first: discharge up to the vehicle allowance minus their draw", () => {
        const s = setup()
        s.inp.outletsW = 400
        s.claim()
        expect(s.win("outlet_share")![1]).toBeCloseTo(10 * 300 * V.inverterEfficiency - 400, 6)
        for (const w of [0, -5, NaN]) {
            s.inp.outletsW = w
            expect(s.claim()).not.toContain("outlet_share")
        }
        s.inp.outletsW = 400
        expect(s.claim(0, false)).not.toContain("outlet_share")
    })

    it("reserve and charge limit, each with its hysteresis", () => {
        const s = setup()
        const h = V.socHysteresisPct
        s.st.reservePct = 30
        s.st.chargeLimitPct = 80
        const at = (soc: number) => {
            s.inp.socPct = soc
            return s.claim()
        }
        expect(at(31)).not.toContain("soc_reserve")
        expect(at(30)).toContain("soc_reserve")
        expect(s.win("soc_reserve")).toEqual([-1e12, 0])
        expect(at(30 + h)).toContain("soc_reserve")
        expect(at(30 + h + 0.01)).not.toContain("soc_reserve")
        expect(at(79.9)).not.toContain("charge_limit")
        expect(at(80)).toContain("charge_limit")
        expect(s.win("charge_limit")).toEqual([0, 1e12])
        expect(at(80 - h)).toContain("charge_limit")
        expect(at(80 - h - 0.01)).not.toContain("charge_limit")
        s.inp.socPct = 10
        expect(s.claim(0, false)).not.toContain("soc_reserve")
    })
})

describe("at boot and across directions", () => {
    it("the outlets' share caps discharging only: a charge request passes while the outlets draw", () => {
        const s = setup()
        s.inp.outletsW = 400
        expect(s.claim()).toContain("outlet_share")
        expect(s.L.resolve(-2000)).toBe(-2000)
        expect(s.win("outlet_share")![1]).toBeCloseTo(10 * 300 * V.inverterEfficiency - 400, 6)
    })

    it("a warm inverter at boot (between resumeBelowC and stopC) is derated along the line, not stopped", () => {
        const d = V.derating
        const s = setup()
        s.inp.inverterTempC = (d.resumeBelowC + d.stopC) / 2
        s.claim()
        const f = (d.stopC - s.inp.inverterTempC) / (d.stopC - d.startC)
        expect(s.win("over_temperature")![1]).toBeCloseTo(V.ratedPowerW * f, 6)
        expect(f).toBeGreaterThan(0)
    })

    it("a SoC inside the charge limit's hysteresis at boot still charges (the limit is reached first)", () => {
        const s = setup()
        s.st.chargeLimitPct = 80
        s.inp.socPct = 80 - V.socHysteresisPct / 2
        expect(s.claim()).not.toContain("charge_limit")
    })
})
