// The V2H faults on their own (src/core/v2h/faults.ts): detection against the commands and the
// feedback timeout, latch vs condition, what status reports, the log, clearing and restoring.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { Faults, isEmergency } from "../../src/core/v2h/faults"
import { V2hEvents } from "../../src/core/v2h/events"
import { V2hSupervisor } from "../../src/core/v2h/supervisor"
import type { V2hInput } from "../../src/core/v2h/io"
import { V2hLoop, v2hConfig } from "../helpers/v2h-harness"

const C = DEVS.v2h.contactor
const FB = C.feedbackTimeoutMs

function setup() {
    const cfg = v2hConfig()
    const st = new V2hSupervisor(cfg).status // a status object of the right shape
    const ev = new V2hEvents(st)
    ev.beginTick()
    const f = new Faults(cfg, st, ev)
    const inp: V2hInput = {
        nowMs: 0,
        estop: false,
        socPct: 50,
        batteryVoltageV: 360,
        maxDischargeCurrentA: 10,
        maxChargeCurrentA: 10,
        batteryAtMs: 0,
        inverterW: 0,
        inverterTempC: 30,
        contactorClosed: false,
        gridRelayClosed: false,
        inverterAtMs: 0,
        gridW: 0,
        gridVoltageV: 100,
        gridFrequencyHz: 60,
        gridAtMs: 0,
        outletsW: 0,
        outletOn: [true, true],
        outletW: [0, 0],
        outletWelded: [false, false],
    }
    return { f, st, inp }
}

describe("Faults: detection", () => {
    it("contacts are judged only once the feedback timeout has passed since their command changed", () => {
        const { f, st, inp } = setup()
        inp.contactorClosed = true // commanded open, reads closed
        f.detect(inp, 100, true, FB - 1, 1e9)
        expect(f.latched).toBe("none")
        f.detect(inp, 200, true, FB, 1e9)
        expect(f.latched).toBe("contactor_welded")
        expect(st.lastFault).toBe("contactor_welded")
        expect(st.lastFaultAtMs).toBe(200)
    })

    it("a contactor commanded open that carries power is welded even if its feedback reads open", () => {
        const { f, inp } = setup()
        inp.inverterW = C.weldedPowerW + 1
        f.detect(inp, 0, true, FB, 0)
        expect(f.latched).toBe("contactor_welded")
        const o = setup()
        o.inp.inverterW = -(C.weldedPowerW + 1)
        o.f.detect(o.inp, 0, true, FB, 0)
        expect(o.f.latched).toBe("contactor_welded")
        const n = setup()
        n.inp.inverterW = C.weldedPowerW
        n.f.detect(n.inp, 0, true, FB, 0)
        expect(n.f.latched).toBe("none")
    })

    it("stuck open contactor and grid relay; welded grid relay; nothing judged without fresh inverter data", () => {
        const a = setup()
        a.st.contactorCmd = true
        a.f.detect(a.inp, 0, true, FB, 0)
        expect(a.f.latched).toBe("contactor_stuck_open")
        const b = setup()
        b.st.gridRelayCmd = true
        b.f.detect(b.inp, 0, true, 0, FB)
        expect(b.f.latched).toBe("grid_relay_stuck_open")
        const c = setup()
        c.inp.gridRelayClosed = true
        c.f.detect(c.inp, 0, true, 0, FB - 1)
        expect(c.f.latched).toBe("none")
        c.f.detect(c.inp, 0, true, 0, FB)
        expect(c.f.latched).toBe("grid_relay_welded")
        const d = setup()
        d.inp.contactorClosed = true
        d.inp.gridRelayClosed = true
        d.inp.inverterW = 1e6
        d.f.detect(d.inp, 0, false, FB, FB)
        expect(d.f.latched).toBe("none")
    })

    it("contacts that read as commanded are no fault once the feedback timeout has passed, a closed contactor carrying power included", () => {
        for (const cmd of [false, true]) {
            const { f, st, inp } = setup()
            st.contactorCmd = cmd
            st.gridRelayCmd = cmd
            inp.contactorClosed = cmd
            inp.gridRelayClosed = cmd
            inp.inverterW = cmd ? DEVS.v2h.ratedPowerW : 0 // discharging at the rating through the closed contactor
            f.detect(inp, 0, true, FB, FB)
            f.detect(inp, 10 * FB, true, 10 * FB, 10 * FB)
            expect(f.latched, `commanded ${cmd ? "closed" : "open"}`).toBe("none")
        }
    })

    it("inverter overload above rating x overloadRatio (not at it), either direction", () => {
        const V = DEVS.v2h
        for (const [w, want] of [
            [V.ratedPowerW * V.overloadRatio, "none"],
            [V.ratedPowerW * V.overloadRatio + 1, "inverter_overload"],
            [-(V.ratedPowerW * V.overloadRatio + 1), "inverter_overload"],
        ] as const) {
            const { f, st, inp } = setup()
            st.contactorCmd = true
            inp.contactorClosed = true
            inp.inverterW = w
            f.detect(inp, 0, true, 0, 0)
            expect(f.latched, String(w)).toBe(want)
        }
    })

    it("a welded outlet relay latches as the outlet core proved it (outlet-supply.ts), not from a draw with the relay off", () => {
        const { f, inp } = setup()
        inp.outletOn[1] = false
        inp.outletW[1] = C.weldedPowerW + 1000
        f.detect(inp, 1000, false, 0, 0)
        f.detect(inp, 1000 + 10 * FB, false, 0, 0)
        expect(f.latched).toBe("none") // a draw the outlet core has not proved a weld (a reading from before the release)
        inp.outletWelded[1] = true
        f.detect(inp, 1000 + 10 * FB + 1, false, 0, 0)
        expect(f.latched).toBe("outlet2_relay_welded")
    })
})

describe("Faults: latch, conditions, report", () => {
    it("a second latched fault is logged and announced; the first stays the reported one", () => {
        const { f, st } = setup()
        f.latch("contactor_stuck_open", 10)
        f.latch("contactor_stuck_open", 11) // the same again: nothing new
        f.latch("estop", 12)
        f.report()
        expect(st.fault).toBe("contactor_stuck_open")
        expect(st.faultLatched).toBe(true)
        expect(f.log.map(e => [e.fault, e.atMs, e.boot])).toEqual([
            ["contactor_stuck_open", 10, 1],
            ["estop", 12, 1],
        ])
        expect(st.events.map(e => [e.kind, e.fault])).toEqual([
            ["fault", "contactor_stuck_open"],
            ["fault", "estop"],
        ])
        expect(st.lastFault).toBe("estop")
    })

    it("conditions: logged on the rising edge, announced on both, reported in a fixed order after a latch", () => {
        const { f, st } = setup()
        f.condition(13, true, 5) // grid_lost
        f.condition(13, true, 6)
        f.condition(11, true, 7) // inverter_stale
        f.report()
        expect(st.fault).toBe("inverter_stale")
        expect(st.faultLatched).toBe(false)
        f.condition(11, false, 8)
        f.report()
        expect(st.fault).toBe("grid_lost")
        f.condition(13, false, 9)
        f.report()
        expect(st.fault).toBe("none")
        expect(f.log.map(e => e.fault)).toEqual(["grid_lost", "inverter_stale"])
        expect(st.events.map(e => `${e.kind}:${e.fault}@${e.atMs}`)).toEqual([
            "fault:grid_lost@5",
            "fault:inverter_stale@7",
            "fault_cleared:inverter_stale@8",
            "fault_cleared:grid_lost@9",
        ])
        f.condition(10, true, 10)
        f.latch("estop", 11)
        f.report()
        expect(st.fault).toBe("estop")
    })

    it("the log keeps the newest persist.faultLogEntries entries, with the boot number", () => {
        const { f } = setup()
        f.bootCount = 4
        const E = DEVS.persist.faultLogEntries
        for (let i = 0; i < 2 * (E + 3); i++) f.condition(10, i % 2 === 0, i) // E + 3 rising edges at 0, 2, 4, ...
        expect(f.log.length).toBe(E)
        expect(f.log[0].atMs).toBe(6) // the three oldest dropped
        expect(f.log.every(e => e.boot === 4)).toBe(true)
        f.restoreLog([{ atMs: 1, fault: "estop", boot: 1 }])
        expect(f.log[f.log.length - 1]).toEqual({ atMs: 1, fault: "estop", boot: 1 })
    })

    it("emergencies open the contactor under load; the others wait for ~0 W", () => {
        for (const e of ["estop", "contactor_welded", "inverter_overload", "ramp_down_timeout"] as const) expect(isEmergency(e)).toBe(true)
        for (const e of ["contactor_stuck_open", "grid_relay_welded", "outlet1_relay_welded", "none"] as const) expect(isEmergency(e)).toBe(false)
    })
})

describe("Faults: clearing and restoring", () => {
    it("clearing is allowed before the first tick, refused while a cause is still there", () => {
        const { f, st, inp } = setup()
        expect(f.clearRefusal(null)).toBe("")
        inp.estop = true
        expect(f.clearRefusal(inp)).toMatch(/e-stop/)
        inp.estop = false
        inp.contactorClosed = true
        expect(f.clearRefusal(inp)).toMatch(/DC contactor/)
        st.contactorCmd = true // commanded closed: reading closed is no weld
        expect(f.clearRefusal(inp)).toBe("")
        inp.gridRelayClosed = true
        expect(f.clearRefusal(inp)).toBe("") // a closed grid relay only blocks when it is the latched weld
        f.latched = "grid_relay_welded"
        expect(f.clearRefusal(inp)).toMatch(/grid relay/)
        st.gridRelayCmd = true
        expect(f.clearRefusal(inp)).toBe("")
        inp.outletOn[0] = false
        inp.outletW[0] = C.weldedPowerW
        expect(f.clearRefusal(inp)).toBe("")
        inp.outletW[0] = C.weldedPowerW + 0.6
        expect(f.clearRefusal(inp)).toBe(`cannot clear faults: outlet 1 still delivers ${Math.round(C.weldedPowerW + 0.6)} W with its relay off (welded)`)
    })

    it("an outlet that is on and delivers power does not block the reset (only one delivering with its relay off does)", () => {
        const { f, inp } = setup()
        f.latch("inverter_overload", 1)
        inp.outletOn = [true, false]
        inp.outletW = [C.weldedPowerW + 1000, 0]
        expect(f.clearRefusal(inp)).toBe("")
        inp.outletW = [0, C.weldedPowerW + 1000]
        expect(f.clearRefusal(inp)).toBe(`cannot clear faults: outlet 2 still delivers ${Math.round(C.weldedPowerW + 1000)} W with its relay off (welded)`)
    })

    it("clear announces the fault it cleared", () => {
        const { f, st } = setup()
        f.latch("estop", 1)
        f.clear(2)
        expect(f.latched).toBe("none")
        expect(st.events[st.events.length - 1]).toMatchObject({ kind: "fault_cleared", fault: "estop", atMs: 2 })
    })

    it("restore takes a latched code or none, refuses conditions and unknown codes", () => {
        const { f } = setup()
        expect(f.restore("grid_lost")).toBe("fault grid_lost is a condition, not a latched fault")
        expect(f.restore("melted")).toBe("fault melted is unknown")
        expect(f.latched).toBe("none")
        expect(f.restore("outlet3_relay_welded")).toBe("")
        expect(f.latched).toBe("outlet3_relay_welded")
        expect(f.restore("none")).toBe("")
        expect(f.latched).toBe("none")
    })
})

describe("Faults: a second latched fault, a weld proof, and the reset (found by mutation testing)", () => {
    it("a second latched fault is logged and announced once while its cause lasts, and can latch again after the reset", () => {
        const { f, st } = setup()
        f.latch("contactor_stuck_open", 10)
        for (let t = 11; t < 20; t++) f.latch("estop", t) // the e-stop held over several ticks
        expect(f.log.map(e => e.fault)).toEqual(["contactor_stuck_open", "estop"])
        expect(st.events.filter(e => e.kind === "fault").map(e => e.fault)).toEqual(["contactor_stuck_open", "estop"])
        f.clear(20)
        f.latch("estop", 21) // pressed again after the reset: now the latched one
        f.report()
        expect(st.fault).toBe("estop")
        expect(f.log.map(e => `${e.fault}@${e.atMs}`)).toEqual(["contactor_stuck_open@10", "estop@11", "estop@21"])
    })

    it("a welded grid relay behind another latched fault still blocks the reset while the relay reads closed", () => {
        const { f, inp } = setup()
        f.latch("estop", 1)
        inp.gridRelayClosed = true // commanded open (gridRelayCmd false), reads closed
        f.detect(inp, 2, true, 0, FB)
        expect(f.latched).toBe("estop")
        expect(f.clearRefusal(inp)).toBe("cannot clear faults: the grid relay still reads closed (welded)")
        inp.gridRelayClosed = false
        expect(f.clearRefusal(inp)).toBe("")
    })

    it("outlet 1's weld latches at its first proof; a proof that stays is not latched again after the reset", () => {
        const { f, st, inp } = setup()
        inp.outletWelded[0] = true
        f.detect(inp, 1000, false, 0, 0)
        expect(f.latched).toBe("outlet1_relay_welded")
        // The load unplugged: the reset is allowed, the outlet core's proof is still there (until the outlet's reset).
        inp.outletW[0] = 0
        expect(f.clearRefusal(inp)).toBe("")
        f.clear(2000)
        f.detect(inp, 2100, false, 0, 0)
        expect(f.latched).toBe("none")
        expect(f.log.map(e => e.fault)).toEqual(["outlet1_relay_welded"])
        // Reset at the outlet, then proven welded again: it latches again.
        inp.outletWelded[0] = false
        f.detect(inp, 2200, false, 0, 0)
        inp.outletWelded[0] = true
        f.detect(inp, 2300, false, 0, 0)
        expect(f.latched).toBe("outlet1_relay_welded")
        f.report()
        expect(st.lastFaultAtMs).toBe(2300)
    })
})

describe("Faults: conditions that were never active", () => {
    it("a condition inactive from the start is not announced as cleared; its first rising edge is announced", () => {
        const { f, st } = setup()
        for (const i of [10, 11, 12, 13]) f.condition(i, false, 5) // battery, inverter, grid meter fresh; grid up
        expect(st.events).toEqual([])
        expect(f.log).toEqual([])
        f.condition(12, true, 6)
        expect(st.events.map(e => `${e.kind}:${e.fault}@${e.atMs}`)).toEqual(["fault:grid_meter_stale@6"])
    })

    it("the supervisor's first tick with every reading fresh announces no fault and no cleared fault", () => {
        const loop = new V2hLoop()
        const st = loop.tick()
        expect(st.events.filter(e => e.kind === "fault" || e.kind === "fault_cleared")).toEqual([])
    })
})
