// The supervisor's events (state changes, faults, their clearing, command timeouts, mode changes).
// Each tick reports the events it raised in status.events (a new list only when there are some);
// events raised between ticks (by a command or clear_faults) are kept for the next tick's list,
// not lost. Every event carries the state it was raised in.
//
// Pure; DeviceScript subset.
import type { FaultCode } from "./faults"
import type { V2hEvent, V2hEventKind, V2hStatus } from "./io"

/** The shared empty list of a tick without events (never written to). */
export const NO_EVENTS: V2hEvent[] = []

export class V2hEvents {
    private betweenTicks: V2hEvent[] = NO_EVENTS
    private inTick = false

    constructor(private readonly st: V2hStatus) {}

    /** A tick starts: its list begins with the events raised since the last one. */
    beginTick() {
        this.inTick = true
        this.st.events = this.betweenTicks
        this.betweenTicks = NO_EVENTS
    }

    endTick() {
        this.inTick = false
    }

    push(now: number, kind: V2hEventKind, reason: string) {
        const st = this.st
        const ev: V2hEvent = { atMs: now, kind, state: st.state, fault: kind === "fault" || kind === "fault_cleared" ? (reason as FaultCode) : "none", reason }
        if (!this.inTick) {
            if (this.betweenTicks === NO_EVENTS) this.betweenTicks = []
            this.betweenTicks.push(ev)
            return
        }
        if (st.events === NO_EVENTS) st.events = []
        st.events.push(ev)
    }
}
