// The published documents and the telemetry schedule (src/core/hems/messages.ts) at their edges:
// the command verdict's "id" on the wire, a reconnect in the middle of a period, a check exactly
// one period late.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { parseCommand } from "../../src/core/hems/command"
import { commandEventDoc, TelemetrySchedule } from "../../src/core/hems/messages"

describe("command_accepted / command_rejected on the wire", () => {
    it("carries no id key when the command had none (the validator's id is then empty)", () => {
        const r = parseCommand('{"mode":"idle"}', DEVS)
        expect(r.id).toBe("")
        expect(JSON.stringify(commandEventDoc(r.error, 1500, r.id))).toBe('{"event":"command_accepted","at_s":1.5}')
        const bad = parseCommand('{"mode":"turbo"}', DEVS)
        expect(Object.keys(commandEventDoc(bad.error, 2000, bad.id))).toEqual(["event", "at_s", "reason"])
        expect(Object.keys(commandEventDoc("", 2000))).toEqual(["event", "at_s"])
    })

    it("carries the id when there is one", () => {
        const r = parseCommand('{"mode":"idle","id":"gw-3"}', DEVS)
        expect(JSON.stringify(commandEventDoc(r.error, 250, r.id))).toBe('{"event":"command_accepted","at_s":0.25,"id":"gw-3"}')
    })
})

describe("telemetry schedule", () => {
    it("a reconnect in the middle of a period publishes at once and starts a new grid from then", () => {
        const t = new TelemetrySchedule(5000)
        expect(t.due(0)).toBe(true) // next at 5000
        expect(t.due(1000)).toBe(false)
        t.restart()
        expect(t.due(1000)).toBe(true) // next at 6000
        expect(t.due(1000)).toBe(false)
        expect(t.due(5500)).toBe(false)
        expect(t.due(5999)).toBe(false)
        expect(t.due(6000)).toBe(true)
    })

    it("a check exactly one period late has missed a whole period: one publication, the grid restarts from now", () => {
        const t = new TelemetrySchedule(5000)
        expect(t.due(0)).toBe(true) // next at 5000
        expect(t.due(10000)).toBe(true) // 5000 late: next at 15000, not at 10000
        expect(t.due(10000)).toBe(false)
        expect(t.due(14999)).toBe(false)
        expect(t.due(15000)).toBe(true)
        // 1 ms short of a period late still keeps the grid.
        expect(t.due(24999)).toBe(true) // next at 25000
        expect(t.due(25000)).toBe(true)
    })
})
