// The supervisor's event list (src/core/v2h/events.ts) on its own: events raised between ticks
// reach the next tick's list and are not lost or repeated; a tick without events reports the
// shared empty list, which is never written to; every event carries the state and the fault.
import { describe, expect, it } from "vitest"
import { NO_EVENTS, V2hEvents } from "../../src/core/v2h/events"
import type { V2hStatus } from "../../src/core/v2h/io"

function setup() {
    const st = { state: "idle", events: NO_EVENTS } as unknown as V2hStatus
    return { st, ev: new V2hEvents(st) }
}

describe("V2H events", () => {
    it("a tick without events reports the shared empty list, and it stays empty", () => {
        const { st, ev } = setup()
        ev.beginTick()
        ev.endTick()
        expect(st.events).toBe(NO_EVENTS)
        ev.beginTick()
        ev.push(5, "state", "running")
        ev.endTick()
        ev.beginTick()
        expect(st.events).toBe(NO_EVENTS)
        expect(NO_EVENTS).toEqual([])
    })

    it("events in a tick go to that tick's list, in order, with the state they were raised in", () => {
        const { st, ev } = setup()
        ev.beginTick()
        ev.push(10, "state", "ramping")
        ;(st as any).state = "running"
        ev.push(10, "mode", "self_consumption")
        ev.endTick()
        expect(st.events).toEqual([
            { atMs: 10, kind: "state", state: "idle", fault: "none", reason: "ramping" },
            { atMs: 10, kind: "mode", state: "running", fault: "none", reason: "self_consumption" },
        ])
        expect(NO_EVENTS).toEqual([])
    })

    it("fault and fault_cleared carry the fault code; the other kinds carry none", () => {
        const { st, ev } = setup()
        ev.beginTick()
        ev.push(1, "fault", "estop")
        ev.push(2, "fault_cleared", "estop")
        ev.push(3, "command_timeout", "estop")
        ev.push(4, "state", "estop")
        ev.push(5, "mode", "estop")
        expect(st.events.map(e => e.fault)).toEqual(["estop", "estop", "none", "none", "none"])
    })

    it("events between ticks are kept for the next tick, ahead of its own, then not repeated", () => {
        const { st, ev } = setup()
        ev.beginTick()
        ev.endTick()
        ev.push(20, "mode", "pv_surplus") // a command between ticks
        ev.push(21, "fault_cleared", "estop") // clear_faults
        expect(st.events).toBe(NO_EVENTS) // the finished tick's list is not touched
        ev.beginTick()
        ev.push(30, "state", "running")
        ev.endTick()
        expect(st.events.map(e => [e.atMs, e.kind])).toEqual([
            [20, "mode"],
            [21, "fault_cleared"],
            [30, "state"],
        ])
        ev.beginTick()
        expect(st.events).toBe(NO_EVENTS)
        expect(NO_EVENTS).toEqual([])
    })

    it("before the first tick, events wait too", () => {
        const { st, ev } = setup()
        ev.push(1, "mode", "idle")
        expect(st.events).toBe(NO_EVENTS)
        ev.beginTick()
        expect(st.events).toEqual([{ atMs: 1, kind: "mode", state: "idle", fault: "none", reason: "idle" }])
    })
})
