// The stored record at its edges (src/core/persist.ts): every field's rule and message, the fault
// log's bad entries and its bound, restore's own checks, the energy counter's first sample and a
// clock that steps back, and the write scheduler's intervals. (persist.test.ts has the main cases.)
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { goodRecord } from "../helpers/persist-fixture"
import { Controller } from "../../src/core/controller"
import { EnergyCounter, PERSIST_KEY, PERSIST_VERSION, PersistScheduler, capture, defaultPersisted, restore, validatePersisted } from "../../src/core/persist"

const good = goodRecord
const check = (over: any) => validatePersisted({ ...good(), ...over }, DEVS)

describe("the record of a first boot", () => {
    it("is version 1 under the key 'charger', every value its devs.json default", () => {
        expect(PERSIST_KEY).toBe("charger")
        expect(PERSIST_VERSION).toBe(1)
        const latched = new Array(DEVS.outlets.count).fill("none")
        expect(defaultPersisted(DEVS)).toEqual({
            v: 1,
            boot: 0,
            soc_floor_pct: DEVS.socFloor.defaultPct,
            outlet_priority: DEVS.outlets.highPriorityOutlet,
            reserve_pct: DEVS.v2h.reserve.defaultPct,
            charge_limit_pct: DEVS.v2h.chargeLimit.defaultPct,
            latched,
            fault: "none",
            log: [],
            wh: [0, 0, 0],
        })
        const three = defaultPersisted({ ...DEVS, outlets: { ...DEVS.outlets, count: 3 } })
        expect(three.latched).toEqual(["none", "none", "none"])
    })
})

describe("validatePersisted, field by field", () => {
    it("null counts as nothing stored; an array is not a record", () => {
        expect(validatePersisted(null, DEVS)).toEqual({ value: defaultPersisted(DEVS), problems: [] })
        expect(validatePersisted([1], DEVS)).toEqual({ value: defaultPersisted(DEVS), problems: ["stored record = [1]: not an object; defaults used"] })
        expect(validatePersisted(5, DEVS).problems).toEqual(["stored record = 5: not an object; defaults used"])
        expect(validatePersisted({ boot: 3 }, DEVS)).toEqual({ value: defaultPersisted(DEVS), problems: ["stored record version undefined: expected 1; defaults used"] })
    })

    it("boot must be a whole count >= 0", () => {
        expect(check({ boot: 0 })).toMatchObject({ problems: [], value: { boot: 0 } })
        for (const [b, shown] of [
            [-1, "-1"],
            [2.5, "2.5"],
            ["3", '"3"'],
            [NaN, "NaN"],
        ] as [any, string][])
            expect(check({ boot: b })).toMatchObject({ problems: [`stored boot = ${shown}: not a count; 0 used`], value: { boot: 0, reserve_pct: 40 } })
    })

    it("each setting has the command's bounds; a bad one is replaced alone", () => {
        expect(check({ soc_floor_pct: 95 })).toMatchObject({ problems: ["stored soc_floor_pct = 95: out of range 10..90 %; default 30 used"], value: { soc_floor_pct: 30, reserve_pct: 40 } })
        expect(check({ charge_limit_pct: "80" })).toMatchObject({
            problems: ['stored charge_limit_pct = "80": must be a finite number; default 90 used'],
            value: { charge_limit_pct: 90, reserve_pct: 40 },
        })
    })

    it("a missing setting is reported and replaced by its default, alone (the others are kept)", () => {
        expect(check({ soc_floor_pct: undefined })).toMatchObject({ problems: ["stored soc_floor_pct = undefined: missing; default 30 used"], value: { soc_floor_pct: 30 } })
        // A missing reserve does not take the stored charge limit with it.
        expect(check({ reserve_pct: undefined })).toMatchObject({ problems: ["stored reserve_pct = undefined: missing; default 30 used"], value: { reserve_pct: 30, charge_limit_pct: 80 } })
        const { reserve_pct, ...noReserve } = good()
        expect(validatePersisted(noReserve, DEVS)).toMatchObject({ problems: ["stored reserve_pct = undefined: missing; default 30 used"], value: { reserve_pct: 30, charge_limit_pct: 80 } })
        expect(reserve_pct).toBe(40)
    })

    it("the reserve must be strictly below the charge limit", () => {
        expect(check({ reserve_pct: 60, charge_limit_pct: 60 })).toMatchObject({
            problems: ["stored reserve_pct = 60 is not below charge_limit_pct = 60; defaults 30 and 90 used"],
            value: { reserve_pct: 30, charge_limit_pct: 90 },
        })
        expect(check({ reserve_pct: 59, charge_limit_pct: 60 })).toMatchObject({ problems: [], value: { reserve_pct: 59, charge_limit_pct: 60 } })
    })

    it("latched: one trip reason per outlet (none, shed or an overload)", () => {
        expect(check({ latched: ["shed", "overload_short"] })).toMatchObject({ problems: [], value: { latched: ["shed", "overload_short"] } })
        for (const bad of [["none"], ["none", "none", "none"], "none,none", undefined])
            expect(check({ latched: bad })).toMatchObject({
                problems: [`stored latched = ${bad === undefined ? "undefined" : JSON.stringify(bad)}: not 2 trip reasons; none restored`],
                value: { latched: ["none", "none"] },
            })
        for (const bad of [3, "soc_floor", "overload_bogus", null])
            expect(check({ latched: ["none", bad] })).toMatchObject({
                problems: [`stored latched[1] = ${JSON.stringify(bad)}: not a trip reason; outlet 2 not restored`],
                value: { latched: ["none", "none"] },
            })
    })

    it("latched: an unreadable entry costs only its own outlet, the others keep their trips", () => {
        expect(check({ latched: ["overload_bogus", "overload_inverse"] })).toMatchObject({
            problems: ['stored latched[0] = "overload_bogus": not a trip reason; outlet 1 not restored'],
            value: { latched: ["none", "overload_inverse"] },
        })
    })

    it("fault: none or a latching fault code", () => {
        expect(check({ fault: "none" })).toMatchObject({ problems: [], value: { fault: "none" } })
        for (const bad of [5, "", "melted", undefined])
            expect(check({ fault: bad })).toMatchObject({ problems: [`stored fault = ${bad === undefined ? "undefined" : JSON.stringify(bad)}: not a latched fault; none restored`], value: { fault: "none" } })
    })

    it("log: bad entries are dropped and counted, the good ones kept in order", () => {
        const log = [
            { fault: "estop", ms: 1, boot: 1 },
            null,
            { fault: "melted", ms: 2, boot: 1 },
            { fault: "estop", ms: "3", boot: 1 },
            { fault: "estop", ms: 4, boot: NaN },
            { fault: 7, ms: 5, boot: 1 },
            { fault: "none", ms: 5, boot: 1 }, // the supervisor never logs "no fault": a corrupted entry
            { fault: "estop", ms: 6, boot: 2, extra: true },
        ]
        const r = check({ log })
        expect(r.problems).toEqual(["stored log: 6 bad entries dropped"])
        expect(r.value.log).toEqual([
            { fault: "estop", ms: 1, boot: 1 },
            { fault: "estop", ms: 6, boot: 2 },
        ])
        expect(check({ log: [] })).toMatchObject({ problems: [], value: { log: [] } })
        expect(check({ log: { fault: "estop" } })).toMatchObject({ problems: ['stored log = {"fault":"estop"}: not a list; emptied'], value: { log: [] } })
    })

    it("log: exactly faultLogEntries entries are all kept", () => {
        const n = DEVS.persist.faultLogEntries
        const log = Array.from({ length: n }, (_, i) => ({ fault: "estop", ms: i, boot: 1 }))
        expect(check({ log }).value.log).toHaveLength(n)
        expect(check({ log: [...log, { fault: "estop", ms: 99, boot: 1 }] }).value.log.map(e => e.ms)).toEqual([...log.slice(1).map(e => e.ms), 99])
    })

    it("wh: three finite counters >= 0", () => {
        expect(check({ wh: [0, 0, 0] })).toMatchObject({ problems: [], value: { wh: [0, 0, 0] } })
        for (const bad of [[1, 2], [1, 2, 3, 4], [1, NaN, 3], [1, 2, "3"], [-0.001, 0, 0], 5])
            expect(check({ wh: bad })).toMatchObject({ problems: [`stored wh = ${JSON.stringify(bad)}: not 3 counters >= 0; reset to 0`], value: { wh: [0, 0, 0] } })
    })

    it("every problem of a record is listed, in field order", () => {
        const r = validatePersisted({ v: 1 }, DEVS)
        expect(r.problems.length).toBe(1 + 4 + 4) // boot, the four settings, latched, fault, log, wh
        expect(r.problems[0]).toMatch(/^stored boot = undefined/)
        expect(r.problems.slice(1, 5)).toEqual(["soc_floor_pct", "outlet_priority", "reserve_pct", "charge_limit_pct"].map(k => `stored ${k} = undefined: missing; default ${(defaultPersisted(DEVS) as any)[k]} used`))
        expect(r.problems.slice(-4).map(p => p.split(" ")[1])).toEqual(["latched", "fault", "log", "wh"])
        expect(r.value).toEqual(defaultPersisted(DEVS))
    })
})

describe("restore: the cores' own checks", () => {
    it("reports what the cores refuse, applying the rest", () => {
        const c = new Controller(DEVS)
        const p = { ...good(), reserve_pct: 95, latched: ["none", "none", "shed"], fault: "battery_stale" }
        const problems = restore(c, p, 0)
        expect(problems).toHaveLength(3)
        expect(problems[0]).toMatch(/^stored settings: reserve_pct = 95/)
        expect(problems[1]).toBe("stored latches: latched outlet 3 does not exist")
        expect(problems[2]).toMatch(/^stored fault: /)
        expect(c.v2h.latchedFault()).toBe("none")
        expect(c.v2h.faults.bootCount).toBe(8)
    })

    it("the fault log comes back with its times and boot numbers", () => {
        const c = new Controller(DEVS)
        restore(c, { ...good(), fault: "none", log: [{ fault: "estop", ms: 5, boot: 2 }, { fault: "inverter_overload", ms: 9, boot: 3 }] }, 0)
        expect(c.v2h.faultLog.map(e => [e.fault, e.atMs, e.boot])).toEqual([
            ["estop", 5, 2],
            ["inverter_overload", 9, 3],
        ])
        expect(c.v2h.status.state).not.toBe("fault")
    })
})

describe("capture", () => {
    it("copies: later changes to the controller or the counters do not reach a captured record", () => {
        const c = new Controller(DEVS)
        restore(c, good(), 0)
        const wh = [1, 2, 3]
        const p = capture(c, wh)
        wh[0] = 99
        c.protection.status.latched[1] = "none"
        expect(p.wh).toEqual([1, 2, 3])
        expect(p.latched).toEqual(["none", "overload_inverse"])
        expect(p).toMatchObject({ v: 1, soc_floor_pct: 25, outlet_priority: 2, charge_limit_pct: 80 })
    })
})

describe("EnergyCounter edges", () => {
    it("starts from the stored counters; the first sample only sets the time", () => {
        const e = new EnergyCounter([10, 20, 30])
        expect(e.wh).toEqual([10, 20, 30])
        e.add(1_000_000, 5000, 500)
        expect(e.wh).toEqual([10, 20, 30])
        e.add(1_000_000 + 36_000, 1000, 0) // 0.01 h at 1 kW discharge
        expect(e.wh).toEqual([20, 20, 30])
    })

    it("integrates over the interval, whatever its length (a quarter hour here)", () => {
        const e = new EnergyCounter([0, 0, 0])
        e.add(0, 0, 0)
        e.add(900_000, 2000, 400) // 0.25 h
        e.add(1_800_000, -1000, 200)
        expect(e.wh).toEqual([500, 250, 150])
    })

    it("a first sample at time 0 counts as the start too", () => {
        const e = new EnergyCounter([0, 0, 0])
        e.add(0, 1000, 1000)
        e.add(3_600_000, 1000, 1000)
        expect(e.wh).toEqual([1000, 0, 1000])
    })

    it("a clock that steps back adds nothing and restarts the interval", () => {
        const e = new EnergyCounter([0, 0, 0])
        e.add(10_000_000, 1000, 100)
        e.add(5_000_000, 1000, 100) // back: nothing
        e.add(5_000_000, 1000, 100) // same time: nothing
        expect(e.wh).toEqual([0, 0, 0])
        e.add(5_000_000 + 3_600_000, -500, 100) // 1 h from the stepped-back time
        expect(e.wh).toEqual([0, 500, 100])
    })

    it("0 W, negative outlet power and non-finite values add nothing", () => {
        const e = new EnergyCounter([0, 0, 0])
        e.add(0, 0, 0)
        e.add(3_600_000, 0, -50)
        e.add(7_200_000, NaN, Infinity)
        e.add(10_800_000, Infinity, NaN)
        expect(e.wh).toEqual([0, 0, 0])
    })
})

describe("PersistScheduler edges", () => {
    const I = DEVS.persist.minWriteIntervalMs
    const E = DEVS.persist.energyWriteIntervalMs

    it("a settings change right after start is written at once (no write yet to space from)", () => {
        const p = defaultPersisted(DEVS)
        const s = new PersistScheduler(DEVS, p, 0)
        expect(s.due({ ...p, soc_floor_pct: 40 }, 0)).toBe(true)
        expect(s.due({ ...p, boot: 1 }, 0)).toBe(true) // the boot number is part of the settings
    })

    it("faults and the fault log are written at once, even right after a write", () => {
        const p = defaultPersisted(DEVS)
        const s = new PersistScheduler(DEVS, p, 0)
        s.written(p, 100)
        expect(s.due({ ...p, fault: "estop" }, 100)).toBe(true)
        expect(s.due({ ...p, log: [{ fault: "estop", ms: 1, boot: 0 }] }, 100)).toBe(true)
    })

    it("energy alone waits energyWriteIntervalMs from the start, and from the last write", () => {
        const p = defaultPersisted(DEVS)
        const s = new PersistScheduler(DEVS, p, 1000)
        const more = { ...p, wh: [0, 0, 2] }
        expect(s.due(more, 1000 + E - 1)).toBe(false)
        expect(s.due(more, 1000 + E)).toBe(true)
        const set = { ...p, reserve_pct: 40 }
        s.written(set, 5000)
        expect(s.due({ ...set, wh: [0, 0, 2] }, 5000 + E - 1)).toBe(false)
        expect(s.due({ ...set, wh: [0, 0, 2] }, 5000 + E)).toBe(true)
        expect(s.due({ ...set, reserve_pct: 41 }, 5000 + I - 1)).toBe(false)
        expect(s.due({ ...set, reserve_pct: 41 }, 5000 + I)).toBe(true)
        expect(s.due(set, 1e12)).toBe(false) // nothing changed since the write
    })
})
