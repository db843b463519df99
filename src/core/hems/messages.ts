// The JSON documents the firmware publishes to a home energy manager over MQTT (topics in
// mqtt-settings.ts): telemetry, events, and when telemetry is due. snake_case keys, units in the
// names, times as seconds since boot (`at_s`). The status document itself is
// Controller.statusJson.
//
// Pure; DeviceScript subset.
import type { ProtectionEvent } from "../outlets/io"
import type { V2hEvent } from "../v2h/io"

/** Seconds since boot, to the millisecond (JSON keeps ~7 significant digits: fine for ~115 days). */
function atS(ms: number): number {
    return Math.round(ms) / 1000
}

/** `<prefix>/telemetry`: the measurements and the decision of the moment, from the status document. */
export function telemetryDoc(status: any, nowMs: number, eventsDropped: number): any {
    return {
        at_s: atS(nowMs),
        state: status.state,
        mode: status.mode,
        soc_pct: status.soc_pct,
        inverter_w: status.inverter_w,
        grid_w: status.grid_w,
        request_w: status.request_w,
        target_w: status.target_w,
        command_w: status.command_w,
        limit_reason: status.limit_reason,
        outlets_w: status.outlets_w,
        outlets_on: status.outlets.map((o: any) => o.on),
        fault: status.fault,
        events_dropped: eventsDropped,
        loops: status.loops,
    }
}

/** `<prefix>/event` for an outlet-protection event (trip, reset, reset_refused, soc_alarm, ...). */
export function protectionEventDoc(ev: ProtectionEvent): any {
    return { event: ev.kind, at_s: atS(ev.atMs), outlet: ev.outlet, reason: ev.reason, load_ratio: Math.round(ev.loadRatio * 1000) / 1000 }
}

/** `<prefix>/event` for a V2H supervisor event (state, fault, fault_cleared, command_timeout, mode). */
export function v2hEventDoc(ev: V2hEvent): any {
    return { event: ev.kind, at_s: atS(ev.atMs), state: ev.state, fault: ev.fault, reason: ev.reason }
}

/**
 * `<prefix>/event` for a command from the HEMS: accepted (reason "") or rejected with why; with the
 * command's "id" when it carried one (command.ts), so the sender can match the result.
 */
export function commandEventDoc(reason: string, nowMs: number, id?: string): any {
    const doc: any = reason ? { event: "command_rejected", at_s: atS(nowMs), reason: reason } : { event: "command_accepted", at_s: atS(nowMs) }
    if (id) doc.id = id
    return doc
}

/** `<prefix>/event` for a stored setting that was refused at boot (the message names no secret value). */
export function settingRejectedDoc(problem: string, nowMs: number): any {
    return { event: "setting_rejected", at_s: atS(nowMs), reason: problem }
}

/** When telemetry is due: every periodMs, the first at once after (re)connecting. */
export class TelemetrySchedule {
    private nextAtMs = -1

    constructor(private readonly periodMs: number) {}

    /** After a (re)connection: publish at the next check. */
    restart() {
        this.nextAtMs = -1
    }

    /** True when telemetry should go out now; then the next one is due a period later. */
    due(nowMs: number): boolean {
        if (this.nextAtMs >= 0 && nowMs < this.nextAtMs) return false
        // Keep the grid when a check came late, unless a whole period was missed.
        this.nextAtMs = this.nextAtMs >= 0 && nowMs - this.nextAtMs < this.periodMs ? this.nextAtMs + this.periodMs : nowMs + this.periodMs
        return true
    }
}
