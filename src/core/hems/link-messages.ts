// The HEMS link's own documents: the `mqtt` object of the status and telemetry (what the link
// withstood, counted since boot) and the events for messages it refused before parsing them.
// snake_case keys, units in the names, times as seconds since boot.
//
// Pure; DeviceScript subset.
import type { MqttDecoderStats } from "./mqtt-decoder"
import type { MqttLinkCounters } from "./mqtt-session"

export interface LinkFigures {
    session: MqttLinkCounters
    decoder: MqttDecoderStats
    commandsLimited: number
    /** Most bytes of received packets waiting for the link's loop at once (mqtt.rxBacklogMaxBytes bounds it). */
    rxBacklogPeakBytes: number
    /** Received packets dropped because that bound was reached. */
    rxDropped: number
}

/** The `mqtt` object of `<prefix>/status` and `<prefix>/telemetry`. */
export function linkDoc(f: LinkFigures): any {
    const s = f.session
    const d = f.decoder
    return {
        connects: s.connects,
        refused: s.refused,
        protocol_errors: s.protocolErrors,
        keepalive_timeouts: s.keepAliveTimeouts,
        duplicate_connacks: s.duplicateConnacks,
        qos_answered: s.qosAnswered,
        subscribe_refused: s.subscribeRefused,
        rx_packets: d.packetsIn,
        dropped_oversize: d.dropped,
        dropped_max_bytes: d.droppedMaxBytes,
        ignored_topics: d.ignored,
        commands_limited: f.commandsLimited,
        rx_backlog_peak_b: f.rxBacklogPeakBytes,
        rx_dropped: f.rxDropped,
    }
}

function atS(ms: number): number {
    return Math.round(ms) / 1000
}

/**
 * A message on a subscribed topic too long to take (skipped while it streamed in). On the
 * command topic it is a `command_rejected` (what a HEMS watches); elsewhere a `message_dropped`.
 */
export function oversizeDoc(topic: string, isCommand: boolean, sizeBytes: number, limitBytes: number, nowMs: number): any {
    const reason = "payload too long: " + sizeBytes + " bytes (limit " + limitBytes + "); skipped unread"
    if (isCommand) return { event: "command_rejected", at_s: atS(nowMs), reason: reason, size_bytes: sizeBytes }
    return { event: "message_dropped", at_s: atS(nowMs), topic: topic, reason: reason, size_bytes: sizeBytes }
}

/** Once per episode of commands arriving faster than hems.commandsPerS. */
export function rateLimitedDoc(perS: number, burst: number, nowMs: number): any {
    return {
        event: "command_rejected",
        at_s: atS(nowMs),
        reason: "rate limit: more than " + perS + " commands/s (burst " + burst + "); the excess is dropped unread and counted in status mqtt.commands_limited",
    }
}
