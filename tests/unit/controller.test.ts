// The decisions that join the outlet side and the V2H side (src/core/controller.ts) and the order
// of the inverter writes (src/core/v2h/inverter-writes.ts): what the firmware shell used to decide.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { Controller } from "../../src/core/controller"
import { ProtectionInput } from "../../src/core/outlets/io"
import { V2hInput } from "../../src/core/v2h/io"
import { InverterWrites } from "../../src/core/v2h/inverter-writes"
import { defaultPersisted } from "../../src/core/persist"

const P_MS = DEVS.ticks.protectionMs
const V_MS = DEVS.ticks.v2hMs

/** Inputs of a charger at rest: switch on, fresh readings, grid in band. */
function inputs(nowMs: number): { pin: ProtectionInput; vin: V2hInput } {
    const outlets = []
    for (let i = 0; i < DEVS.outlets.count; i++) outlets.push({ powerW: 100, currentA: 1, atMs: nowMs })
    const pin: ProtectionInput = { nowMs, mainSwitchOn: true, outlets, socPct: 80, socAtMs: nowMs }
    const vin: V2hInput = {
        nowMs,
        estop: false,
        estopAvailable: true,
        socPct: 80,
        batteryVoltageV: 360,
        maxDischargeCurrentA: 100,
        maxChargeCurrentA: 100,
        batteryAtMs: nowMs,
        inverterW: 0,
        inverterTempC: 30,
        contactorClosed: false,
        gridRelayClosed: true,
        inverterAtMs: nowMs,
        gridW: 500,
        gridVoltageV: DEVS.grid.nominalVoltageV,
        gridFrequencyHz: DEVS.grid.nominalFrequencyHz,
        gridAtMs: nowMs,
        outletsW: 0,
        outletOn: [],
        outletW: [],
    }
    return { pin, vin }
}

function stamp(pin: ProtectionInput, vin: V2hInput, nowMs: number) {
    pin.nowMs = vin.nowMs = nowMs
    for (const o of pin.outlets) o.atMs = nowMs
    pin.socAtMs = vin.batteryAtMs = vin.inverterAtMs = vin.gridAtMs = nowMs
}

function booted(stored?: any) {
    const c = new Controller(DEVS)
    expect(c.boot(stored, 0)).toEqual([])
    const { pin, vin } = inputs(0)
    return { c, pin, vin }
}

describe("Controller: the e-stop's reach to the outlets", () => {
    it("a pressed e-stop cuts the outlets at the next protection tick, before any V2H tick", () => {
        const { c, pin, vin } = booted()
        stamp(pin, vin, P_MS)
        expect(c.tickOutlets(pin, false).outletOn).toEqual([true, true])
        stamp(pin, vin, 2 * P_MS)
        const st = c.tickOutlets(pin, true)
        expect(st.outletOn).toEqual([false, false])
        expect(st.reason).toEqual(["estop", "estop"])
    })

    it("the latched e-stop fault keeps them cut after release, until clear_faults and the next V2H tick", () => {
        const { c, pin, vin } = booted()
        let t = V_MS
        stamp(pin, vin, t)
        vin.estop = true
        expect(c.tickV2h(vin).fault).toBe("estop")
        vin.estop = false
        for (let k = 0; k < 5; k++) {
            t += V_MS
            stamp(pin, vin, t)
            c.tickV2h(vin)
            expect(c.tickOutlets(pin, false).outletOn).toEqual([false, false])
        }
        expect(c.v2h.clearFaults(t)).toBe("")
        // Still cut until the supervisor has ticked without the fault.
        expect(c.tickOutlets(pin, false).outletOn).toEqual([false, false])
        t += V_MS
        stamp(pin, vin, t)
        expect(c.tickV2h(vin).fault).toBe("none")
        expect(c.tickOutlets(pin, false).outletOn).toEqual([true, true])
    })

    it("a restored e-stop latch keeps the outlets off from the first protection tick", () => {
        const { c, pin } = booted({ ...defaultPersisted(DEVS), fault: "estop" })
        const st = c.tickOutlets(pin, false)
        expect(st.outletOn).toEqual([false, false])
        expect(st.reason).toEqual(["estop", "estop"])
    })
})

describe("Controller: what the supervisor sees of the outlets", () => {
    it("the outlet core's readings, stale ones as NaN (the one meterTimeoutMs judgement)", () => {
        const { c, pin, vin } = booted()
        pin.outlets[0].powerW = 250
        pin.outlets[1].powerW = 40
        pin.outlets[1].atMs = P_MS - DEVS.outlets.meterTimeoutMs - 1
        pin.nowMs = P_MS
        c.tickOutlets(pin, false)
        c.tickV2h(vin)
        expect(vin.outletW[0]).toBe(250)
        expect(vin.outletW[1]).toBeNaN()
        expect(vin.outletsW).toBe(250)
        expect(vin.outletOn).toEqual([true, false])
    })
})

describe("Controller: alarm", () => {
    it("sounds for a latched V2H fault, and for the outlets' alarm", () => {
        const { c, pin, vin } = booted()
        stamp(pin, vin, V_MS)
        c.tickOutlets(pin, false)
        c.tickV2h(vin)
        expect(c.alarmOn()).toBe(false)
        vin.estop = true
        c.tickV2h(vin)
        expect(c.alarmOn()).toBe(true)
        const o = booted()
        o.pin.socPct = DEVS.socFloor.defaultPct - 1
        expect(o.c.tickOutlets(o.pin, false).alarm).toBe(true)
        expect(o.c.alarmOn()).toBe(true)
    })
})

describe("Controller: persistence and energy", () => {
    it("counts inverter energy only from a fresh reading", () => {
        const { c, pin, vin } = booted()
        stamp(pin, vin, V_MS)
        vin.inverterW = 3600
        c.tickV2h(vin)
        c.persistDue(V_MS)
        const hour = 3600 * 1000
        // Fresh all along: 1 h at 3600 W.
        vin.inverterAtMs = V_MS + hour
        const rec = c.persistDue(V_MS + hour)
        expect(rec).not.toBeNull()
        expect(rec.wh[0]).toBeCloseTo(3600, 6)
        // Stale reading for the next hour: nothing is counted (a new latch makes the record due).
        vin.estop = true
        vin.nowMs = V_MS + hour + 1
        c.tickV2h(vin)
        const rec2 = c.persistDue(V_MS + 2 * hour)
        expect(rec2.fault).toBe("estop")
        expect(rec2.wh[0]).toBeCloseTo(3600, 6)
    })

    it("writes a new latch at once, nothing when nothing changed", () => {
        const { c, pin, vin } = booted()
        stamp(pin, vin, V_MS)
        c.tickV2h(vin)
        expect(c.persistDue(V_MS)?.boot).toBe(1) // the new boot number, once
        expect(c.persistDue(V_MS)).toBeNull()
        vin.estop = true
        c.tickV2h(vin)
        expect(c.persistDue(V_MS + 1)?.fault).toBe("estop")
        expect(c.persistDue(V_MS + 2)).toBeNull()
    })

    it("boot reports each refused stored value", () => {
        const c = new Controller(DEVS)
        expect(c.boot({ ...defaultPersisted(DEVS), reserve_pct: 99 }, 0)).toEqual(["stored reserve_pct = 99: out of range 10..90 %; default 30 used"])
    })
})

describe("InverterWrites: which writes, in which order", () => {
    const cmd = (commandW: number, contactorCmd: boolean, islandCmd: boolean, gridRelayCmd: boolean) => ({ commandW, contactorCmd, islandCmd, gridRelayCmd })
    const list = (w: InverterWrites) => w.writes.slice(0, w.count).map(x => (x.register === "power" ? `power=${x.powerW}` : `${x.register}=${x.on}`))

    it("everything once at first (unknown state), contactor opening first, grid relay last", () => {
        const w = new InverterWrites()
        w.plan(cmd(0, false, false, true))
        expect(list(w)).toEqual(["contactor=false", "power=0", "island=false", "grid_relay=true"])
    })

    it("only what changed afterwards; nothing when nothing changed", () => {
        const w = new InverterWrites()
        w.plan(cmd(0, false, false, true))
        expect(w.plan(cmd(0, false, false, true))).toBe(0)
        expect(w.plan(cmd(1234.4, false, false, true))).toBe(1)
        expect(list(w)).toEqual(["power=1234"])
        expect(w.plan(cmd(1234.3, false, false, true))).toBe(0)
    })

    it("a closing contactor goes after the power command; an opening one before it", () => {
        const w = new InverterWrites()
        w.plan(cmd(0, false, false, true))
        w.plan(cmd(500, true, false, true))
        expect(list(w)).toEqual(["power=500", "contactor=true"])
        w.plan(cmd(0, false, true, false))
        expect(list(w)).toEqual(["contactor=false", "power=0", "island=true", "grid_relay=false"])
    })

    it("forget() writes everything again (the role bound again)", () => {
        const w = new InverterWrites()
        w.plan(cmd(100, true, false, true))
        w.forget()
        w.plan(cmd(100, true, false, true))
        expect(list(w)).toEqual(["power=100", "island=false", "contactor=true", "grid_relay=true"])
    })

    it("the controller plans them at each V2H tick", () => {
        const { c, pin, vin } = booted()
        stamp(pin, vin, V_MS)
        c.tickV2h(vin)
        expect(list(c.inverterWrites)).toEqual(["contactor=false", "power=0", "island=false", "grid_relay=true"])
        c.tickV2h(vin)
        expect(c.inverterWrites.count).toBe(0)
    })
})
