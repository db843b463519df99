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
        outletWelded: [],
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

describe("Controller: the outlets' supply contactor (second means)", () => {
    it("supplied at rest; cut in the protection tick whose reading shows an outlet commanded off still delivering; back once it is turned on again", () => {
        const { c, pin, vin } = booted()
        pin.outlets[0].powerW = 800
        stamp(pin, vin, P_MS)
        c.tickOutlets(pin, false)
        expect(c.outletSupplyOn).toBe(true)
        // The main switch off: every relay commanded off; the reading is still from before.
        pin.mainSwitchOn = false
        pin.nowMs = vin.nowMs = 2 * P_MS
        expect(c.tickOutlets(pin, false).outletOn).toEqual([false, false])
        expect(c.outletSupplyOn).toBe(true)
        // The shell writes the relays (the weld is judged from the write on).
        c.outletRelayWritten(0, false, 2 * P_MS)
        c.outletRelayWritten(1, false, 2 * P_MS)
        // A reading while the relay is still releasing proves nothing.
        pin.outlets[1].powerW = 0
        stamp(pin, vin, 2 * P_MS + DEVS.outlets.relayReleaseMs - 1)
        c.tickOutlets(pin, false)
        expect(c.outletSupplyOn).toBe(true)
        // The next reading, the release time after the command: outlet 1 still delivers (welded).
        let t = 2 * P_MS + DEVS.outlets.relayReleaseMs
        stamp(pin, vin, t)
        c.tickOutlets(pin, false)
        expect(c.outletSupplyOn).toBe(false)
        // The cut supply hides the draw: still cut until the outlet is commanded on again.
        pin.outlets[0].powerW = 0
        t += P_MS
        stamp(pin, vin, t)
        c.tickOutlets(pin, false)
        expect(c.outletSupplyOn).toBe(false)
        pin.mainSwitchOn = true
        for (let k = 0; k < 100 && !c.protection.status.outletOn[0]; k++) {
            t += P_MS
            stamp(pin, vin, t)
            c.tickOutlets(pin, false)
        }
        expect(c.protection.status.outletOn[0]).toBe(true)
        expect(c.outletSupplyOn).toBe(true)
    })

    it("a stale meter never proves a weld; the e-stop cuts the supply", () => {
        const { c, pin, vin } = booted()
        pin.mainSwitchOn = false
        pin.outlets[0].powerW = 800
        c.outletRelayWritten(0, false, 0)
        stamp(pin, vin, P_MS)
        pin.outlets[0].atMs = P_MS - DEVS.outlets.meterTimeoutMs - 1
        c.tickOutlets(pin, false)
        expect(c.outletSupplyOn).toBe(true)
        stamp(pin, vin, 2 * P_MS)
        pin.outlets[0].powerW = 0
        c.tickOutlets(pin, true)
        expect(c.outletSupplyOn).toBe(false)
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

describe("Controller: a welded outlet relay, one proof for both sides", () => {
    it("the V2H fault latches only on the outlet core's proof: V2H ticks that missed the outlet's on period and a reading from before the release prove nothing (chaos seed 40)", () => {
        const { c, pin, vin } = booted()
        pin.mainSwitchOn = false
        stamp(pin, vin, P_MS)
        c.tickOutlets(pin, false)
        c.tickV2h(vin) // the V2H side sees the outlets off (at boot)...
        pin.mainSwitchOn = true
        let t = P_MS
        for (; t < 1500; t += P_MS) {
            stamp(pin, vin, t)
            c.tickOutlets(pin, false) // ...and no V2H tick while they are on (held up after a restart)
        }
        expect(c.protection.status.outletOn[0]).toBe(true)
        pin.outlets[0].powerW = DEVS.outlets.budgetPowerW * DEVS.tripCurve.instantRatio + 100
        stamp(pin, vin, t)
        expect(c.tickOutlets(pin, false).outletOn[0]).toBe(false) // an instant trip
        c.outletRelayWritten(0, false, t)
        c.tickV2h(vin) // the reading that made the trip, taken before the off write
        expect(c.v2h.status.fault).toBe("none")
        expect(vin.outletWelded[0]).toBe(false)
        // Still drawing on a reading taken relayReleaseMs after the off write: welded, on both sides.
        t += DEVS.outlets.relayReleaseMs
        stamp(pin, vin, t)
        c.tickOutlets(pin, false)
        expect(c.outletSupplyOn).toBe(false)
        c.tickV2h(vin)
        expect(c.v2h.status.fault).toBe("outlet1_relay_welded")
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
    const cmd = (commandW: number, contactorCmd: boolean, islandCmd: boolean, gridRelayCmd: boolean, transferCmd = false, ceaseCmd = false) => ({
        commandW,
        contactorCmd,
        islandCmd,
        gridRelayCmd,
        transferCmd,
        ceaseCmd,
    })
    const list = (w: InverterWrites) => w.writes.slice(0, w.count).map(x => (x.register === "power" ? `power=${x.powerW}` : `${x.register}=${x.on}`))

    it("everything once at first (unknown state), contactor opening first, grid relay and transfer contact last, conversion released after all", () => {
        const w = new InverterWrites(500)
        w.plan(cmd(0, false, false, true))
        expect(list(w)).toEqual(["contactor=false", "power=0", "island=false", "grid_relay=true", "transfer=false", "cease=false"])
    })

    it("cease to energize goes before everything else; its release after everything else", () => {
        const w = new InverterWrites(500)
        w.plan(cmd(800, true, false, true))
        w.plan(cmd(0, false, false, true, false, true))
        expect(list(w)).toEqual(["cease=true", "contactor=false", "power=0"])
        w.plan(cmd(3000, true, true, true, true, false))
        expect(list(w)).toEqual(["power=3000", "island=true", "contactor=true", "transfer=true", "cease=false"])
    })

    it("the house back to the grid right after the cease (break-before-make: nothing forms the island), not behind the power and island writes; never before a cease", () => {
        const w = new InverterWrites(500)
        w.plan(cmd(3000, true, true, true, true, false)) // islanded
        w.plan(cmd(0, true, false, true, false, true)) // the grid is back: retransfer
        expect(list(w)).toEqual(["cease=true", "transfer=false", "power=0", "island=false"])
        const r = new InverterWrites(500)
        r.plan(cmd(3000, true, true, true, true, false))
        r.forget()
        r.plan(cmd(100, true, false, true, false, false)) // not ceased: the transfer keeps its place after the grid relay
        expect(list(r)).toEqual(["power=100", "island=false", "contactor=true", "grid_relay=true", "transfer=false", "cease=false"])
    })

    it("only what changed afterwards; nothing when nothing changed", () => {
        const w = new InverterWrites(500)
        w.plan(cmd(0, false, false, true))
        expect(w.plan(cmd(0, false, false, true))).toBe(0)
        expect(w.plan(cmd(1234.4, false, false, true))).toBe(1)
        expect(list(w)).toEqual(["power=1234"])
        expect(w.plan(cmd(1234.3, false, false, true))).toBe(0)
    })

    it("a closing contactor goes after the power command; an opening one before it", () => {
        const w = new InverterWrites(500)
        w.plan(cmd(0, false, false, true))
        w.plan(cmd(500, true, false, true))
        expect(list(w)).toEqual(["power=500", "contactor=true"])
        w.plan(cmd(0, false, true, false))
        expect(list(w)).toEqual(["contactor=false", "power=0", "island=true", "grid_relay=false"])
        w.plan(cmd(0, false, true, false, true))
        expect(list(w)).toEqual(["transfer=true"])
    })

    it("a cease while the house stays on the island: the transfer contact is not written at all (no drop to the grid and back)", () => {
        const w = new InverterWrites(500)
        w.plan(cmd(3000, true, true, false, true, false)) // islanded, grid relay open
        w.plan(cmd(0, true, true, false, true, true))
        expect(list(w)).toEqual(["cease=true", "power=0"])
    })

    it("forget() writes everything again (the role bound again)", () => {
        const w = new InverterWrites(500)
        w.plan(cmd(100, true, false, true))
        w.forget()
        w.plan(cmd(100, true, false, true))
        expect(list(w)).toEqual(["power=100", "island=false", "contactor=true", "grid_relay=true", "transfer=false", "cease=false"])
    })

    it("keepalive: the power command is due again keepaliveMs after the shell last began writing one, planned or repeated", () => {
        const w = new InverterWrites(500)
        expect(w.keepaliveDue(0)).toBe(true) // nothing written yet
        w.plan(cmd(800, true, false, true))
        expect(w.lastPowerW()).toBe(800)
        w.powerWritten(40) // the planned write began at 40 ms (queued behind others)
        expect(w.keepaliveDue(539)).toBe(false)
        expect(w.keepaliveDue(540)).toBe(true)
        w.powerWritten(540) // the repeat
        expect(w.keepaliveDue(1039)).toBe(false)
        // A changed command written meanwhile restarts the count.
        w.plan(cmd(900.4, true, false, true))
        w.powerWritten(700)
        expect(w.lastPowerW()).toBe(900)
        expect(w.keepaliveDue(1199)).toBe(false)
        expect(w.keepaliveDue(1200)).toBe(true)
        // Another period, another limit.
        const slow = new InverterWrites(2000)
        slow.powerWritten(0)
        expect(slow.keepaliveDue(1999)).toBe(false)
        expect(slow.keepaliveDue(2000)).toBe(true)
    })

    it("the controller's writes use powerStage.keepaliveMs; forget() leaves no power command to repeat", () => {
        const { c, pin, vin } = booted()
        stamp(pin, vin, V_MS)
        c.tickV2h(vin)
        c.inverterWrites.powerWritten(V_MS)
        expect(c.inverterWrites.keepaliveDue(V_MS + DEVS.powerStage.keepaliveMs - 1)).toBe(false)
        expect(c.inverterWrites.keepaliveDue(V_MS + DEVS.powerStage.keepaliveMs)).toBe(true)
        c.inverterWrites.forget()
        expect(c.inverterWrites.lastPowerW()).toBe(null)
    })

    it("the controller plans them at each V2H tick", () => {
        const { c, pin, vin } = booted()
        stamp(pin, vin, V_MS)
        c.tickV2h(vin)
        expect(list(c.inverterWrites)).toEqual(["cease=true", "transfer=false", "contactor=false", "power=0", "island=false", "grid_relay=true"])
        c.tickV2h(vin)
        expect(c.inverterWrites.count).toBe(0)
    })
})

describe("Controller: the status document and the command object at the edges", () => {
    it("last_fault_age_s counts from the fault in whole seconds, 0 while there was none", () => {
        const { c, pin, vin } = booted()
        stamp(pin, vin, V_MS)
        c.tickV2h(vin)
        expect(c.statusJson(V_MS + 7000).last_fault_age_s).toBe(0)
        stamp(pin, vin, 10_000)
        vin.estop = true
        c.tickV2h(vin)
        expect(c.statusJson(10_000 + 4_600).last_fault_age_s).toBe(5)
    })

    it("the vehicle is on the link while its reading is at most readingTimeoutMs old, at any uptime", () => {
        const { c, pin, vin } = booted()
        const t = 50_000
        stamp(pin, vin, t)
        c.tickV2h(vin)
        expect(c.statusJson(t).vehicle).toBe("both")
        expect(c.statusJson(t + DEVS.v2h.readingTimeoutMs).vehicle).toBe("both")
        expect(c.statusJson(t + DEVS.v2h.readingTimeoutMs + 1).vehicle).toBe("none")
    })

    it("a refused command object changes nothing; a command without floor or priority keeps them", () => {
        const { c } = booted()
        const before = c.statusJson(0)
        expect(c.commandObject({ mode: "setpoint", setpoint_w: "lots" }, 0)).not.toBe("")
        expect(c.statusJson(0)).toEqual(before)
        expect(c.commandObject({ mode: "idle" }, 0)).toBe("")
        const after = c.statusJson(0)
        expect(after.soc_floor_pct).toBe(before.soc_floor_pct)
        expect(after.outlet_priority).toBe(before.outlet_priority)
    })
})
