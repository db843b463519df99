// The HEMS link's own documents (src/core/hems/link-messages.ts): the status `mqtt` object, field by
// field from its source, and the events for messages refused before they were parsed.
import { describe, expect, it } from "vitest"
import { linkDoc, oversizeDoc, rateLimitedDoc } from "../../src/core/hems/link-messages"

describe("link documents", () => {
    it("rate limit: a command_rejected naming the rate, the burst and where the excess is counted", () => {
        expect(rateLimitedDoc(2, 5, 12_345.6)).toEqual({
            event: "command_rejected",
            at_s: 12.346,
            reason: "rate limit: more than 2 commands/s (burst 5); the excess is dropped unread and counted in status mqtt.commands_limited",
        })
    })

    it("oversize elsewhere than the command topic: message_dropped with the topic, the size and the limit", () => {
        expect(oversizeDoc("homeassistant/status", false, 70000, 512, 2500)).toEqual({
            event: "message_dropped",
            at_s: 2.5,
            topic: "homeassistant/status",
            reason: "payload too long: 70000 bytes (limit 512); skipped unread",
            size_bytes: 70000,
        })
    })

    it("the status mqtt object: every counter from its own source", () => {
        const session = { connects: 1, refused: 2, protocolErrors: 3, keepAliveTimeouts: 4, duplicateConnacks: 5, qosAnswered: 6, subscribeRefused: 7 }
        const decoder = { bytesIn: 999, packetsIn: 8, dropped: 9, droppedMaxBytes: 10, ignored: 11 }
        expect(linkDoc({ session, decoder, commandsLimited: 12, rxBacklogPeakBytes: 13, rxDropped: 14 })).toEqual({
            connects: 1,
            refused: 2,
            protocol_errors: 3,
            keepalive_timeouts: 4,
            duplicate_connacks: 5,
            qos_answered: 6,
            subscribe_refused: 7,
            rx_packets: 8,
            dropped_oversize: 9,
            dropped_max_bytes: 10,
            ignored_topics: 11,
            commands_limited: 12,
            rx_backlog_peak_b: 13,
            rx_dropped: 14,
        })
    })
})
