// One MQTT connection's protocol decisions, apart from the socket: what each decoded packet
// means (mqtt-decoder.ts), when to ping, when the link is dead, and the counters the status
// reports. The shell (src/hems-mqtt.ts) writes what it says and closes when it says so.
//
//   - CONNACK: the first accepted one brings the session up (the shell subscribes, pings and
//     publishes); a refused one closes (the backoff grows: a broker that refuses our credentials
//     is retried at most every mqtt.backoffMaxMs, never in a tight loop); a second CONNACK is
//     ignored and counted.
//   - Keep-alive: a PINGREQ at once after CONNACK (its PINGRESP proves the session works and
//     resets the backoff), then every 2/3 of mqtt.keepAliveS. No PINGRESP within keepAliveS of
//     a ping is a dead link: closed and retried with the backoff. A connection that stalls,
//     even mid-packet, is found the same way; no CONNACK within mqtt.connectTimeoutMs also.
//   - QoS 1/2 PUBLISH (against our QoS 0 subscription): handled once; answered with PUBACK (1)
//     or PUBREC (2), and PUBREL with PUBCOMP, so the broker stops redelivering. Counted.
//   - Protocol errors close the connection.
//
// Pure: time is an input. DeviceScript subset.
import { connackReason, PT_PUBACK, PT_PUBCOMP, PT_PUBREC } from "./mqtt-codec"
import type { MqttIn } from "./mqtt-decoder"

export interface MqttSessionConfig {
    keepAliveS: number
    connectTimeoutMs: number
}

/** What the shell does with a decoded packet. */
export interface MqttAction {
    /** "" nothing more; "up" subscribe + ping + announce; "close" end the connection (reason says why);
     *  "message" hand the payload to the topic's handler; "dropped" report the oversize message once. */
    op: "" | "up" | "close" | "message" | "dropped"
    reason?: string
    topic?: string
    payload?: Buffer
    retain?: boolean
    sizeBytes?: number
    /** When not 0: send this acknowledgement (PT_PUBACK / PT_PUBREC / PT_PUBCOMP) with ackId. */
    ackType?: number
    ackId?: number
}

/** Counters since boot, for the status document. */
export interface MqttLinkCounters {
    connects: number
    refused: number
    protocolErrors: number
    keepAliveTimeouts: number
    duplicateConnacks: number
    qosAnswered: number
    subscribeRefused: number
}

const NONE: MqttAction = { op: "" }

export class MqttSession {
    private up = false
    private openedAtMs = 0
    private pingSentAtMs = -1
    private lastPingAtMs = 0
    /** A PINGRESP came in this session (the session works end to end). */
    proven = false
    readonly counters: MqttLinkCounters = { connects: 0, refused: 0, protocolErrors: 0, keepAliveTimeouts: 0, duplicateConnacks: 0, qosAnswered: 0, subscribeRefused: 0 }

    constructor(private readonly cfg: MqttSessionConfig) {}

    private pingIntervalMs(): number {
        return Math.round((this.cfg.keepAliveS * 1000 * 2) / 3)
    }

    /** The socket opened and CONNECT was sent. */
    opened(nowMs: number) {
        this.up = false
        this.proven = false
        this.openedAtMs = nowMs
        this.pingSentAtMs = -1
    }

    isUp(): boolean {
        return this.up
    }

    /**
     * The connection ended, or an attempt failed before opened(): true when the backoff may
     * restart, i.e. the session that ended proved itself (a PINGRESP). Once only: the attempts
     * that fail after it (a broker gone, before any new session) keep the backoff growing.
     */
    ended(): boolean {
        const p = this.proven
        this.proven = false
        return p
    }

    /** A PINGREQ was written. */
    pinged(nowMs: number) {
        if (this.pingSentAtMs < 0) this.pingSentAtMs = nowMs
        this.lastPingAtMs = nowMs
    }

    /**
     * Called regularly (and after each read): "" all well; "ping" send a PINGREQ now;
     * anything else: the link is dead, close it (the text says why).
     */
    tick(nowMs: number): string {
        if (!this.up) {
            if (nowMs - this.openedAtMs > this.cfg.connectTimeoutMs) return "no CONNACK within " + this.cfg.connectTimeoutMs + " ms"
            return ""
        }
        if (this.pingSentAtMs >= 0 && nowMs - this.pingSentAtMs > this.cfg.keepAliveS * 1000) {
            this.counters.keepAliveTimeouts++
            return "no PINGRESP within the keep-alive (" + this.cfg.keepAliveS + " s): dead link"
        }
        if (this.pingSentAtMs < 0 && nowMs - this.lastPingAtMs >= this.pingIntervalMs()) return "ping"
        return ""
    }

    private close(reason: string): MqttAction {
        return { op: "close", reason: reason }
    }

    /** What to do with one decoded packet. */
    handle(p: MqttIn, nowMs: number): MqttAction {
        const k = p.kind
        if (k === "error") {
            this.counters.protocolErrors++
            return this.close(p.reason)
        }
        if (k === "connack") {
            if (this.up) {
                this.counters.duplicateConnacks++
                return NONE
            }
            if (p.code !== 0) {
                this.counters.refused++
                return this.close("broker refused the connection: " + connackReason(p.code))
            }
            this.up = true
            this.counters.connects++
            this.lastPingAtMs = nowMs - this.pingIntervalMs() // ping at once
            return { op: "up" }
        }
        if (!this.up) {
            // §3.2: the first packet from the server must be CONNACK.
            this.counters.protocolErrors++
            return this.close("protocol error: " + k + " before CONNACK")
        }
        if (k === "pingresp") {
            this.pingSentAtMs = -1
            this.proven = true
            return NONE
        }
        if (k === "pubrel") return this.answer({ op: "" }, PT_PUBCOMP, p.packetId)
        if (k === "suback") {
            for (const c of p.codes) if (c === 0x80) this.counters.subscribeRefused++
            return NONE
        }
        if (k === "publish" || k === "dropped" || k === "ignored") {
            const a: MqttAction = k === "publish" ? { op: "message", topic: p.topic, payload: p.payload, retain: p.retain } : k === "dropped" ? { op: "dropped", topic: p.topic, sizeBytes: p.sizeBytes } : { op: "" }
            if (p.qos === 1) return this.answer(a, PT_PUBACK, p.packetId)
            if (p.qos === 2) return this.answer(a, PT_PUBREC, p.packetId)
            return a
        }
        // puback / pubrec / pubcomp / unsuback: we never publish with QoS > 0 nor unsubscribe; harmless.
        return NONE
    }

    private answer(a: MqttAction, type: number, id: number): MqttAction {
        this.counters.qosAnswered++
        a.ackType = type
        a.ackId = id
        return a
    }
}
