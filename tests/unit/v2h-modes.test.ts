// The local V2H modes (src/core/v2h/modes.ts) on their own, exact: the self-consumption deadband,
// the PV-surplus thresholds and minimum on/off times at their edges, the time of day and the
// schedule windows at their first and last minute. (v2h-supervisor.test.ts drives them through
// the supervisor.)
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { LocalModes } from "../../src/core/v2h/modes"

type V2h = typeof DEVS.v2h
function modes(over: Partial<V2h> = {}): LocalModes {
    return new LocalModes({ v2h: { ...DEVS.v2h, ...over } })
}
const SC = { targetImportW: 100, deadbandW: 50 }
const PV = { startSurplusW: 1400, stopSurplusW: 500, minOnMs: 300_000, minOffMs: 300_000, marginW: 100 }

describe("self_consumption", () => {
    it("asks for the house load above the import target, never a charge", () => {
        const m = modes({ selfConsumption: SC })
        expect(m.request("self_consumption", 0, 1100)).toBe(1000)
        expect(m.note).toBe("")
        expect(m.request("self_consumption", 0, -500)).toBe(0) // exporting already: 0, not a charge
        expect(m.request("self_consumption", 0, 100)).toBe(0)
    })

    it("ignores changes up to the deadband, follows larger ones, and drops to 0 at once", () => {
        const m = modes({ selfConsumption: SC })
        expect(m.request("self_consumption", 0, 1100)).toBe(1000)
        expect(m.request("self_consumption", 0, 1149)).toBe(1000)
        expect(m.request("self_consumption", 0, 1150)).toBe(1000) // exactly the deadband: ignored
        expect(m.request("self_consumption", 0, 1151)).toBe(1051)
        expect(m.request("self_consumption", 0, 1101)).toBe(1051) // 50 below: ignored
        expect(m.request("self_consumption", 0, 1100)).toBe(1000)
        expect(m.request("self_consumption", 0, 130)).toBe(30)
        expect(m.request("self_consumption", 0, 100)).toBe(0) // 30 W change, but 0 is always followed
        expect(m.request("self_consumption", 0, 130)).toBe(0) // from 0, 30 W is inside the deadband
    })

    it("no reading: 0 W with the note no_reading, and the next reading starts from 0", () => {
        const m = modes({ selfConsumption: SC })
        expect(m.request("self_consumption", 0, 1100)).toBe(1000)
        expect(m.request("self_consumption", 0, NaN)).toBe(0)
        expect(m.note).toBe("no_reading")
        expect(m.request("self_consumption", 0, 1130)).toBe(1030) // 1,030 from 0, not held at 1,000
        expect(m.note).toBe("")
    })
})

describe("pv_surplus", () => {
    it("starts at startSurplusW (not below), charges the surplus minus the margin", () => {
        const m = modes({ pvSurplus: PV })
        expect(m.request("pv_surplus", 0, -1399)).toBe(0)
        expect(m.note).toBe("pv_waiting")
        expect(m.request("pv_surplus", 0, -1400)).toBe(-1300)
        expect(m.note).toBe("")
        expect(m.request("pv_surplus", 1000, -2000)).toBe(-1900)
    })

    it("on: a surplus at or below the margin charges 0 W (not a discharge), still on", () => {
        const m = modes({ pvSurplus: PV })
        m.request("pv_surplus", 0, -1400)
        expect(Object.is(m.request("pv_surplus", 1000, -100), 0)).toBe(true)
        expect(m.request("pv_surplus", 2000, -50)).toBe(0)
        expect(m.note).toBe("")
        expect(m.request("pv_surplus", 3000, 500)).toBe(0) // importing: 0, still on (minimum on time)
        expect(m.note).toBe("")
    })

    it("stops below stopSurplusW only after minOnMs on; restarts only after minOffMs off", () => {
        const m = modes({ pvSurplus: PV })
        expect(m.request("pv_surplus", 10_000, -1500)).toBe(-1400) // on at 10 s
        expect(m.request("pv_surplus", 10_000 + 299_999, -400)).toBe(-300) // below stop, on too briefly
        expect(m.request("pv_surplus", 10_000 + 300_000, -500)).toBe(-400) // at stop: not below
        expect(m.request("pv_surplus", 10_000 + 300_000, -499)).toBe(0) // off at 310 s
        expect(m.note).toBe("pv_waiting")
        expect(m.request("pv_surplus", 310_000 + 299_999, -3000)).toBe(0) // off too briefly
        expect(m.request("pv_surplus", 310_000 + 300_000, -3000)).toBe(-2900)
    })

    it("no reading counts as no surplus: it does not start, and it stops after minOnMs", () => {
        const m = modes({ pvSurplus: PV })
        expect(m.note).toBe("") // nothing asked yet
        expect(m.request("pv_surplus", 0, NaN)).toBe(0)
        expect(m.note).toBe("pv_waiting")
        expect(m.request("pv_surplus", 0, -2000)).toBe(-1900)
        expect(m.request("pv_surplus", 300_000, NaN)).toBe(0)
        expect(m.note).toBe("pv_waiting") // off, not on with an unknown surplus
        expect(m.request("pv_surplus", 300_000, -1000)).toBe(0) // between stop and start: stays off
    })

    it("reset: off, but free to start at once; the self-consumption request and the note are forgotten", () => {
        const m = modes({ pvSurplus: PV, selfConsumption: SC })
        m.request("pv_surplus", 0, -2000)
        m.reset(100_000) // on for only 100 s, yet reset turns it off ...
        expect(m.note).toBe("")
        expect(m.request("pv_surplus", 100_000, -1000)).toBe(0) // ... (1,000 W is between stop and start: stays off)
        m.reset(200_000)
        expect(m.request("pv_surplus", 200_000, -1400)).toBe(-1300) // and may start at once
        m.request("self_consumption", 0, 1100)
        m.request("pv_surplus", 200_000, -1399)
        expect(m.note).toBe("")
        m.request("pv_surplus", 0, NaN)
        m.reset(0)
        expect(m.note).toBe("")
        const s = modes({ selfConsumption: SC })
        expect(s.request("self_consumption", 0, 1100)).toBe(1000)
        s.reset(0)
        expect(s.request("self_consumption", 0, 1130)).toBe(1030)
    })
})

describe("time of day", () => {
    it("accepts 0..86399 s and names a bad value", () => {
        const m = modes()
        for (const s of [0, 86399, 43200.5]) expect(m.setTimeOfDay(s, 0)).toBe("")
        for (const s of [-1, 86400, NaN, Infinity]) expect(m.setTimeOfDay(s, 0)).toBe(`time_of_day = ${s}: must be 0..86399 s since midnight`)
    })

    it("a rejected value leaves the clock as it was", () => {
        const m = modes()
        expect(m.timeOfDayS(0)).toBeNaN()
        m.setTimeOfDay(-5, 0)
        expect(m.timeOfDayS(0)).toBeNaN()
        m.setTimeOfDay(100, 0)
        m.setTimeOfDay(90000, 0)
        expect(m.timeOfDayS(0)).toBe(100)
    })

    it("runs on from when it was set and wraps at midnight, both ways", () => {
        const m = modes()
        m.setTimeOfDay(100, 5000)
        expect(m.timeOfDayS(5000)).toBe(100)
        expect(m.timeOfDayS(7500)).toBe(102.5)
        m.setTimeOfDay(86399, 10_000)
        expect(m.timeOfDayS(12_000)).toBe(1)
        expect(m.timeOfDayS(10_000 + 86_400_000 * 2 + 1000)).toBe(0)
        m.setTimeOfDay(0, 10_000)
        expect(m.timeOfDayS(9000)).toBe(86399)
    })
})

describe("schedule", () => {
    const schedule = [
        { from: "01:30", to: "06:45", powerW: -3000 },
        { from: "22:10", to: "00:20", powerW: 1000 }, // wraps midnight
        { from: "05:00", to: "07:00", powerW: 2000 }, // overlaps the first: the first listed wins
    ]
    const at = (m: LocalModes, hh: number, mm: number, ss = 0) => {
        m.setTimeOfDay(hh * 3600 + mm * 60 + ss, 0)
        return m.request("schedule", 0, NaN)
    }

    it("0 W with the note time_unknown until the time of day is set", () => {
        const m = modes({ schedule })
        expect(m.request("schedule", 0, 0)).toBe(0)
        expect(m.note).toBe("time_unknown")
        at(m, 3, 0)
        expect(m.note).toBe("")
    })

    it("a window holds from its first minute to before its 'to' minute", () => {
        const m = modes({ schedule })
        expect(at(m, 1, 29, 59)).toBe(0)
        expect(at(m, 1, 30)).toBe(-3000)
        expect(at(m, 6, 44, 59)).toBe(-3000)
        expect(at(m, 6, 45)).toBe(2000) // the overlapping window
        expect(at(m, 6, 59, 59)).toBe(2000)
        expect(at(m, 7, 0)).toBe(0)
        expect(at(m, 5, 30)).toBe(-3000) // both: the first listed
    })

    it("a window across midnight", () => {
        const m = modes({ schedule })
        expect(at(m, 22, 9, 59)).toBe(0)
        expect(at(m, 22, 10)).toBe(1000)
        expect(at(m, 23, 59, 59)).toBe(1000)
        expect(at(m, 0, 0)).toBe(1000)
        expect(at(m, 0, 19, 59)).toBe(1000)
        expect(at(m, 0, 20)).toBe(0)
        expect(at(m, 12, 0)).toBe(0)
    })

    it("idle and any other mode ask for 0 W with no note", () => {
        const m = modes({ schedule })
        m.setTimeOfDay(2 * 3600, 0)
        for (const mode of ["idle", "setpoint", ""]) {
            expect(m.request(mode, 0, 5000)).toBe(0)
            expect(m.note).toBe("")
        }
    })
})
