// What survives a restart (src/core/persist.ts): validation of the stored record, restore into a
// fresh controller (same resets needed as before), the write scheduler and the energy counters.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { goodRecord } from "../helpers/persist-fixture"
import { Controller } from "../../src/core/controller"
import { EnergyCounter, PersistScheduler, SETTING_MAX_BYTES, capture, defaultPersisted, joinFromFlash, restore, splitForFlash, validatePersisted } from "../../src/core/persist"

const RUNS = Number(process.env.FC_RUNS ?? 1000)
const good = goodRecord

describe("validatePersisted", () => {
    it("first boot (nothing stored): defaults, no problem", () => {
        expect(validatePersisted(undefined, DEVS)).toEqual({ value: defaultPersisted(DEVS), problems: [] })
    })

    it("keeps a valid record as it is", () => {
        expect(validatePersisted(good(), DEVS)).toEqual({ value: good(), problems: [] })
    })

    it("replaces each bad value by its default and says so, keeping the good ones", () => {
        const r = validatePersisted({ ...good(), reserve_pct: 95, outlet_priority: 3, latched: ["none", "melted"], wh: [1, -2, 3] }, DEVS)
        expect(r.problems).toEqual([
            "stored outlet_priority = 3: out of range 1..2; default 1 used",
            "stored reserve_pct = 95: out of range 10..90 %; default 30 used",
            'stored latched[1] = "melted": not a trip reason; outlet 2 not restored',
            "stored wh = [1,-2,3]: not 3 counters >= 0; reset to 0",
        ])
        expect(r.value).toMatchObject({ soc_floor_pct: 25, outlet_priority: 1, reserve_pct: 30, charge_limit_pct: 80, latched: ["none", "none"], fault: "estop", wh: [0, 0, 0] })
    })

    it("an inconsistent reserve/charge-limit pair falls back to both defaults", () => {
        const r = validatePersisted({ ...good(), reserve_pct: 70, charge_limit_pct: 60 }, DEVS)
        expect(r.problems).toEqual(["stored reserve_pct = 70 is not below charge_limit_pct = 60; defaults 30 and 90 used"])
        expect(r.value).toMatchObject({ reserve_pct: 30, charge_limit_pct: 90 })
    })

    it("a record of another version or shape is not used at all", () => {
        expect(validatePersisted({ ...good(), v: 2 }, DEVS).problems).toEqual(["stored record version 2: expected 1; defaults used"])
        expect(validatePersisted("garbage", DEVS)).toEqual({ value: defaultPersisted(DEVS), problems: ['stored record = "garbage": not an object; defaults used'] })
        expect(validatePersisted({ ...good(), fault: "battery_stale" }, DEVS).problems).toEqual(['stored fault = "battery_stale": not a latched fault; none restored'])
    })

    it("whatever is stored, the result passes the cores' own checks (property)", () => {
        fc.assert(
            fc.property(fc.oneof(fc.jsonValue(), fc.record({ v: fc.constant(1), reserve_pct: fc.jsonValue(), latched: fc.jsonValue(), wh: fc.jsonValue(), log: fc.jsonValue() })), raw => {
                const { value } = validatePersisted(raw, DEVS)
                const c = new Controller(DEVS)
                expect(restore(c, value, 0)).toEqual([])
            }),
            { numRuns: RUNS },
        )
    })
})

describe("restore", () => {
    it("brings back settings, latched trips and the latched fault; the same resets are needed", () => {
        const c = new Controller(DEVS)
        expect(restore(c, good(), 0)).toEqual([])
        expect(c.protection.status.socFloorPct).toBe(25)
        expect(c.v2h.status.reservePct).toBe(40)
        expect(c.v2h.status.state).toBe("fault")
        expect(c.v2h.latchedFault()).toBe("estop")
        // Outlet 2 stays off with its trip reason even with the switch ON, until OFF >= 5 s then ON.
        const reading = { powerW: 0, currentA: 0, atMs: 0 }
        const input = { nowMs: 0, mainSwitchOn: true, outlets: [reading, { ...reading }], socPct: 80, socAtMs: 0 }
        const tick = (ms: number, on: boolean) => {
            input.nowMs = ms
            input.mainSwitchOn = on
            input.socAtMs = ms
            input.outlets.forEach(o => (o.atMs = ms))
            return c.protection.tick(input)
        }
        expect(tick(20, true).outletOn).toEqual([true, false])
        expect(c.protection.status.reason[1]).toBe("overload_inverse")
        tick(40, false)
        expect(tick(6000, true).outletOn).toEqual([true, true])
    })
})

describe("PersistScheduler", () => {
    it("writes latches and faults at once, settings at most every minWriteIntervalMs, energy at most every energyWriteIntervalMs", () => {
        const p = defaultPersisted(DEVS)
        const s = new PersistScheduler(DEVS, p, 0)
        expect(s.due(p, 1000)).toBe(false)
        const latched = { ...p, latched: ["shed", "none"] }
        expect(s.due(latched, 1000)).toBe(true)
        s.written(latched, 1000)
        const setting = { ...latched, reserve_pct: 40 }
        expect(s.due(setting, 1000 + DEVS.persist.minWriteIntervalMs - 1)).toBe(false)
        expect(s.due(setting, 1000 + DEVS.persist.minWriteIntervalMs)).toBe(true)
        s.written(setting, 1000 + DEVS.persist.minWriteIntervalMs)
        const energy = { ...setting, wh: [5, 0, 0] }
        expect(s.due(energy, DEVS.persist.energyWriteIntervalMs)).toBe(false)
        expect(s.due(energy, 1000 + DEVS.persist.minWriteIntervalMs + DEVS.persist.energyWriteIntervalMs)).toBe(true)
        // Sub-Wh changes never cause a write by themselves.
        const tiny = { ...setting, wh: [0.4, 0, 0] }
        expect(s.due(tiny, 1e9)).toBe(false)
    })
})

describe("EnergyCounter and the fault log", () => {
    it("integrates discharge, charge and outlet energy in Wh", () => {
        const e = new EnergyCounter([1, 2, 3])
        e.add(0, 3600, 100)
        e.add(3_600_000, 3600, 100) // 1 h at 3.6 kW
        e.add(5_400_000, -2000, NaN) // 0.5 h charging at 2 kW
        expect(e.wh).toEqual([1 + 3600, 2 + 1000, 3 + 100])
    })

    it("capture records the controller's state; the fault log survives a restart with its boot numbers, bounded", () => {
        const c = new Controller(DEVS)
        restore(c, good(), 0)
        expect(c.v2h.faults.bootCount).toBe(8)
        expect(capture(c, [1, 2, 3])).toMatchObject({
            boot: 8,
            reserve_pct: 40,
            latched: ["none", "overload_inverse"],
            fault: "estop",
            log: [{ fault: "estop", ms: 1234, boot: 6 }],
            wh: [1, 2, 3],
        })
        const many = { ...good(), log: Array.from({ length: 12 }, (_, i) => ({ fault: "estop", ms: i, boot: 1 })) }
        const checked = validatePersisted(many, DEVS)
        expect(checked.value.log.map(e => e.ms)).toEqual([4, 5, 6, 7, 8, 9, 10, 11])
        expect(DEVS.persist.faultLogEntries).toBe(8)
    })
})

describe("the record in flash (two settings, each within one Jacdac packet)", () => {
    it("the worst case (longest names, a full log, large counters) fits SETTING_MAX_BYTES per setting", () => {
        const worst = {
            ...defaultPersisted(DEVS),
            boot: 99999,
            latched: ["overload_on_reset", "overload_on_reset"],
            fault: "grid_relay_stuck_open",
            log: Array.from({ length: DEVS.persist.faultLogEntries }, (_, i) => ({ fault: "grid_relay_stuck_open", ms: 86_400_000 * 30 + i, boot: 99999 })),
            wh: [9_999_999.9, 9_999_999.9, 9_999_999.9],
        }
        const parts = splitForFlash(worst)
        expect(JSON.stringify(parts.record).length).toBeLessThanOrEqual(SETTING_MAX_BYTES)
        expect(JSON.stringify(parts.log).length).toBeLessThanOrEqual(SETTING_MAX_BYTES)
    })

    it("split then joined gives back a record that validates to the same values", () => {
        const rec = { ...good(), log: [{ fault: "estop", ms: 1000, boot: 6 }] } // whole seconds: the log keeps seconds
        const parts = splitForFlash(rec)
        const back = validatePersisted(joinFromFlash(JSON.parse(JSON.stringify(parts.record)), JSON.parse(JSON.stringify(parts.log))), DEVS)
        expect(back.problems).toEqual([])
        expect(back.value).toEqual(rec)
    })

    it("a record of the older layout (log inside) still restores its log; junk is left for the validation", () => {
        const rec = good()
        expect(validatePersisted(joinFromFlash(rec, undefined), DEVS).value.log).toEqual(rec.log)
        expect(joinFromFlash("junk", [])).toBe("junk")
        expect(validatePersisted(joinFromFlash(splitForFlash(rec).record, [[99, 1, 1]]), DEVS).problems).toEqual(["stored log: 1 bad entries dropped"])
    })
})
