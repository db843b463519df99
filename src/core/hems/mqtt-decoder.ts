// Incremental MQTT 3.1.1 decoder for what a broker sends a client, fed arbitrary chunks of the
// TCP stream (one byte, a packet and a half, a hundred packets at once). Memory is bounded by
// design, whatever arrives:
//   - a PUBLISH payload is buffered only when its topic is one we subscribed to AND it fits
//     maxPayloadBytes; the buffer is allocated once at its exact size when the header is complete;
//   - any other PUBLISH (oversize, or a topic we did not subscribe) is skipped while it streams in,
//     by counting bytes: nothing of it is kept, however long (up to the 256 MB MQTT can frame);
//   - control packets (CONNACK, SUBACK, acks, PINGRESP) have fixed small sizes and are read into
//     one reused 32-byte buffer; a longer one is a protocol error;
//   - the topic is compared byte by byte with the subscribed topics' bytes: no string is made for
//     a topic we do not know.
// Anything MQTT 3.1.1 does not allow a server to send is a protocol error (reported once, with
// why; the decoder then ignores all input until reset): remaining length over 4 bytes or not
// minimally encoded, reserved or client-only packet types, wrong fixed-header flags, wrong
// lengths, PUBLISH QoS 3, empty topic, packet identifier 0. The shell closes the connection
// and reconnects with the backoff.
//
// QoS 1/2 PUBLISH: we subscribe with QoS 0, so a broker should downgrade every message to 0
// (§3.8.4); one that does not still gets its message handled once, and the packet identifier
// so the shell can answer as the protocol requires (PUBACK for 1; PUBREC for 2 and PUBCOMP for
// its PUBREL, stateless). Without the answer such a broker would redeliver without end.
//
// Pure; DeviceScript subset (Buffer only, no typed arrays, no Map).
import {
    PT_CONNACK,
    PT_PINGRESP,
    PT_PUBACK,
    PT_PUBCOMP,
    PT_PUBLISH,
    PT_PUBREC,
    PT_PUBREL,
    PT_SUBACK,
    PT_UNSUBACK,
} from "./mqtt-codec"

/** What the decoder hands out, one at a time (`kind` says which fields are set). */
export interface MqttIn {
    kind: "connack" | "publish" | "dropped" | "ignored" | "suback" | "puback" | "pubrec" | "pubrel" | "pubcomp" | "unsuback" | "pingresp" | "error"
    /** connack: return code (0 = accepted). */
    code?: number
    sessionPresent?: boolean
    /** publish / dropped: the subscribed topic (the caller's own string). */
    topic?: string
    /** publish: the whole payload (at most maxPayloadBytes). */
    payload?: Buffer
    /** dropped: payload bytes of the oversize message; ignored: its whole packet body. */
    sizeBytes?: number
    qos?: number
    retain?: boolean
    dup?: boolean
    /** QoS 1/2 publish, acks, suback. */
    packetId?: number
    /** suback: one return code per topic. */
    codes?: number[]
    /** error: why (names the offending value). */
    reason?: string
}

/** Longest control-packet body accepted (SUBACK: 2 + one byte per topic we subscribe). */
export const CONTROL_BODY_MAX_BYTES = 32
/** Longest remaining-length field (§2.2.3). */
const MAX_LENGTH_BYTES = 4

const S_TYPE = 0
const S_LEN = 1
const S_CONTROL = 2
const S_TOPIC_LEN = 3
const S_TOPIC = 4
const S_PACKET_ID = 5
const S_PAYLOAD = 6
const S_SKIP = 7
const S_DEAD = 8

export interface MqttDecoderStats {
    bytesIn: number
    packetsIn: number
    /** PUBLISH on a subscribed topic skipped because the payload was over maxPayloadBytes. */
    dropped: number
    /** Largest payload skipped (bytes). */
    droppedMaxBytes: number
    /** PUBLISH on a topic we did not subscribe (skipped). */
    ignored: number
}

export class MqttDecoder {
    private readonly topicBytes: Buffer[] = []
    private maxTopicBytes = 0
    private state = S_TYPE
    private byte1 = 0
    /** Body bytes of the current packet not yet consumed. */
    private left = 0
    private lenValue = 0
    private lenMul = 1
    private lenCount = 0
    private readonly control = Buffer.alloc(CONTROL_BODY_MAX_BYTES)
    private controlLen = 0
    private controlFill = 0
    private topicLen = 0
    private topicFill = 0
    private topicBuf: Buffer = null
    /** Index into topics of a possible match, -1 when none can match. */
    private topicIndex = -1
    private packetId = 0
    private idFill = 0
    private payload: Buffer = null
    private payloadFill = 0
    private chunk: Buffer = null
    private pos = 0
    readonly stats: MqttDecoderStats = { bytesIn: 0, packetsIn: 0, dropped: 0, droppedMaxBytes: 0, ignored: 0 }

    /** `topics`: the exact topic names subscribed to (no wildcards). */
    constructor(
        private readonly topics: string[],
        private readonly maxPayloadBytes: number,
    ) {
        for (const t of topics) {
            const b = Buffer.from(t)
            this.topicBytes.push(b)
            if (b.length > this.maxTopicBytes) this.maxTopicBytes = b.length
        }
        this.topicBuf = Buffer.alloc(Math.max(1, this.maxTopicBytes))
    }

    /** A new connection: forget any partial packet and a past protocol error (stats are kept). */
    reset() {
        this.state = S_TYPE
        this.chunk = null
        this.pos = 0
        this.payload = null
    }

    /** True while a packet has started but not ended (e.g. when the connection stalls or closes). */
    midPacket(): boolean {
        return this.state !== S_TYPE && this.state !== S_DEAD
    }

    /** True after a protocol error, until reset(). */
    failed(): boolean {
        return this.state === S_DEAD
    }

    /** Hands over the next chunk of the stream; call next() until it returns null before the next push. */
    push(chunk: Buffer) {
        this.chunk = chunk
        this.pos = 0
        if (this.state !== S_DEAD) this.stats.bytesIn += chunk.length
    }

    /** The next decoded item from the pushed chunk, or null when the chunk is used up. */
    next(): MqttIn {
        const c = this.chunk
        if (!c) return null
        while (this.pos < c.length) {
            const st = this.state
            if (st === S_DEAD) {
                this.pos = c.length
                break
            }
            if (st === S_TYPE) {
                this.byte1 = c[this.pos++]
                const bad = this.checkType(this.byte1)
                if (bad) return this.fail(bad)
                this.lenValue = 0
                this.lenMul = 1
                this.lenCount = 0
                this.state = S_LEN
            } else if (st === S_LEN) {
                const b = c[this.pos++]
                this.lenCount++
                this.lenValue += (b & 127) * this.lenMul
                this.lenMul = this.lenMul * 128
                if (b & 128) {
                    if (this.lenCount >= MAX_LENGTH_BYTES) return this.fail("remaining length longer than 4 bytes")
                } else {
                    if (this.lenCount > 1 && b === 0) return this.fail("remaining length not minimally encoded (" + this.lenCount + " bytes for " + this.lenValue + ")")
                    const r = this.bodyStart()
                    if (r) return r
                }
            } else if (st === S_CONTROL) {
                const n = Math.min(this.controlLen - this.controlFill, c.length - this.pos)
                for (let i = 0; i < n; i++) this.control[this.controlFill + i] = c[this.pos + i]
                this.controlFill += n
                this.pos += n
                if (this.controlFill === this.controlLen) {
                    this.state = S_TYPE
                    return this.controlPacket()
                }
            } else if (st === S_TOPIC_LEN) {
                this.topicLen = this.topicLen * 256 + c[this.pos++]
                this.left--
                if (++this.topicFill === 2) {
                    const r = this.topicLenDone()
                    if (r) return r
                }
            } else if (st === S_TOPIC) {
                const n = Math.min(this.topicLen - this.topicFill, c.length - this.pos)
                if (this.topicIndex >= 0) for (let i = 0; i < n; i++) this.topicBuf[this.topicFill + i] = c[this.pos + i]
                this.topicFill += n
                this.pos += n
                this.left -= n
                if (this.topicFill === this.topicLen) {
                    if (this.topicIndex >= 0) this.topicIndex = this.matchTopic()
                    const r = this.qos() > 0 ? this.beginPacketId() : this.headerDone()
                    if (r) return r
                }
            } else if (st === S_PACKET_ID) {
                this.packetId = this.packetId * 256 + c[this.pos++]
                this.left--
                if (++this.idFill === 2) {
                    if (this.packetId === 0) return this.fail("PUBLISH QoS " + this.qos() + " with packet identifier 0")
                    const r = this.headerDone()
                    if (r) return r
                }
            } else if (st === S_PAYLOAD) {
                const n = Math.min(this.left, c.length - this.pos)
                for (let i = 0; i < n; i++) this.payload[this.payloadFill + i] = c[this.pos + i]
                this.payloadFill += n
                this.pos += n
                this.left -= n
                if (this.left === 0) {
                    this.state = S_TYPE
                    const p = this.payload
                    this.payload = null
                    return this.publishItem("publish", p)
                }
            } else {
                // S_SKIP: count bytes, keep nothing.
                const n = Math.min(this.left, c.length - this.pos)
                this.pos += n
                this.left -= n
                if (this.left === 0) this.state = S_TYPE
            }
        }
        this.chunk = null
        return null
    }

    private qos(): number {
        return (this.byte1 >> 1) & 3
    }

    private fail(reason: string): MqttIn {
        this.state = S_DEAD
        this.payload = null
        if (this.chunk) this.pos = this.chunk.length
        return { kind: "error", reason: "protocol error: " + reason }
    }

    /** "" when the fixed-header byte is one a server may send; else why not. */
    private checkType(b: number): string {
        const type = b >> 4
        const flags = b & 15
        if (type === PT_PUBLISH) return ((flags >> 1) & 3) === 3 ? "PUBLISH with QoS 3" : ""
        if (type === PT_PUBREL) return flags === 2 ? "" : "PUBREL with flags " + flags + " (must be 2)"
        if (type === PT_CONNACK || type === PT_PUBACK || type === PT_PUBREC || type === PT_PUBCOMP || type === PT_SUBACK || type === PT_UNSUBACK || type === PT_PINGRESP)
            return flags === 0 ? "" : "packet type " + type + " with flags " + flags + " (must be 0)"
        if (type === 0 || type === 15) return "reserved packet type " + type
        return "packet type " + type + " is sent by clients only"
    }

    /** The remaining length is known: set up reading the body. */
    private bodyStart(): MqttIn {
        const type = this.byte1 >> 4
        const n = this.lenValue
        this.stats.packetsIn++
        if (type === PT_PUBLISH) {
            const idBytes = this.qos() > 0 ? 2 : 0
            if (n < 2 + 1 + idBytes) return this.fail("PUBLISH of " + n + " bytes is shorter than a topic" + (idBytes ? " and a packet identifier" : ""))
            this.left = n
            this.topicLen = 0
            this.topicFill = 0
            this.state = S_TOPIC_LEN
            return null
        }
        let want = 2
        if (type === PT_PINGRESP) want = 0
        if (type === PT_SUBACK) {
            if (n < 3 || n > CONTROL_BODY_MAX_BYTES) return this.fail("SUBACK of " + n + " bytes (expected 3.." + CONTROL_BODY_MAX_BYTES + ")")
            want = n
        }
        if (n !== want) return this.fail("packet type " + type + " of " + n + " bytes (must be " + want + ")")
        this.controlLen = n
        this.controlFill = 0
        if (n === 0) {
            this.state = S_TYPE
            return this.controlPacket()
        }
        this.state = S_CONTROL
        return null
    }

    private controlPacket(): MqttIn {
        const type = this.byte1 >> 4
        const b = this.control
        if (type === PT_PINGRESP) return { kind: "pingresp" }
        if (type === PT_CONNACK) {
            if (b[0] & 0xfe) return this.fail("CONNACK acknowledge flags " + b[0] + " (only bit 0 allowed)")
            return { kind: "connack", sessionPresent: (b[0] & 1) === 1, code: b[1] }
        }
        const id = b[0] * 256 + b[1]
        if (type === PT_SUBACK) {
            const codes: number[] = []
            for (let i = 2; i < this.controlLen; i++) {
                const rc = b[i]
                if (rc !== 0 && rc !== 1 && rc !== 2 && rc !== 0x80) return this.fail("SUBACK return code " + rc)
                codes.push(rc)
            }
            return { kind: "suback", packetId: id, codes: codes }
        }
        if (type === PT_PUBACK) return { kind: "puback", packetId: id }
        if (type === PT_PUBREC) return { kind: "pubrec", packetId: id }
        if (type === PT_PUBREL) return { kind: "pubrel", packetId: id }
        if (type === PT_PUBCOMP) return { kind: "pubcomp", packetId: id }
        return { kind: "unsuback", packetId: id }
    }

    private topicLenDone(): MqttIn {
        const idBytes = this.qos() > 0 ? 2 : 0
        if (this.topicLen === 0) return this.fail("PUBLISH with an empty topic")
        if (this.topicLen + idBytes > this.left) return this.fail("PUBLISH topic of " + this.topicLen + " bytes longer than the packet")
        // Only a topic of a length we subscribed to can match: keep its bytes, else just skip them.
        this.topicIndex = -1
        for (let i = 0; i < this.topicBytes.length; i++) if (this.topicBytes[i].length === this.topicLen) this.topicIndex = i
        this.topicFill = 0
        this.state = S_TOPIC
        return null
    }

    /** Index of the subscribed topic equal to the bytes read, or -1. */
    private matchTopic(): number {
        for (let i = 0; i < this.topicBytes.length; i++) {
            const t = this.topicBytes[i]
            if (t.length !== this.topicLen) continue
            let same = true
            for (let j = 0; j < t.length && same; j++) if (t[j] !== this.topicBuf[j]) same = false
            if (same) return i
        }
        return -1
    }

    private beginPacketId(): MqttIn {
        this.packetId = 0
        this.idFill = 0
        this.state = S_PACKET_ID
        return null
    }

    /** Topic (and packet id) read; `left` is the payload length. */
    private headerDone(): MqttIn {
        if (this.qos() === 0) this.packetId = 0
        const size = this.left
        if (this.topicIndex < 0) {
            this.stats.ignored++
            this.startSkip()
            return this.publishItem("ignored", null)
        }
        if (size > this.maxPayloadBytes) {
            this.stats.dropped++
            if (size > this.stats.droppedMaxBytes) this.stats.droppedMaxBytes = size
            this.startSkip()
            return this.publishItem("dropped", null)
        }
        if (size === 0) {
            this.state = S_TYPE
            return this.publishItem("publish", Buffer.alloc(0))
        }
        this.payload = Buffer.alloc(size)
        this.payloadFill = 0
        this.state = S_PAYLOAD
        return null
    }

    private startSkip() {
        this.state = this.left > 0 ? S_SKIP : S_TYPE
    }

    private publishItem(kind: "publish" | "dropped" | "ignored", payload: Buffer): MqttIn {
        const b1 = this.byte1
        const it: MqttIn = { kind: kind, qos: (b1 >> 1) & 3, retain: (b1 & 1) === 1, dup: (b1 & 8) === 8, packetId: this.packetId }
        if (kind === "publish") {
            it.topic = this.topics[this.topicIndex]
            it.payload = payload
        } else if (kind === "dropped") {
            it.topic = this.topics[this.topicIndex]
            it.sizeBytes = this.left
        } else it.sizeBytes = this.lenValue
        return it
    }
}
