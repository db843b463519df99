// MQTT 3.1.1 packets the charger sends (OASIS mqtt-v3.1.1-os, sections cited per function):
// CONNECT with will and credentials, SUBSCRIBE (QoS 0), PUBLISH QoS 0, PUBACK / PUBREC / PUBCOMP
// (answers to a broker that sends QoS 1/2 although we subscribed with QoS 0, see mqtt-decoder.ts),
// PINGREQ, DISCONNECT.
//
// Each packet is built in ONE Buffer of its exact size (one allocation, one socket write), so no
// intermediate concatenations churn the 32-64 KB device heap.
//
// Pure; DeviceScript subset (Buffer only, no typed arrays).

/** Control packet types (§2.2.1). */
export const PT_CONNECT = 1
export const PT_CONNACK = 2
export const PT_PUBLISH = 3
export const PT_PUBACK = 4
export const PT_PUBREC = 5
export const PT_PUBREL = 6
export const PT_PUBCOMP = 7
export const PT_SUBSCRIBE = 8
export const PT_SUBACK = 9
export const PT_UNSUBSCRIBE = 10
export const PT_UNSUBACK = 11
export const PT_PINGREQ = 12
export const PT_PINGRESP = 13
export const PT_DISCONNECT = 14

/** Largest remaining length MQTT can encode (four 7-bit groups, §2.2.3). */
export const MAX_REMAINING_LENGTH = 268435455
/** Longest UTF-8 string field (2-byte length prefix, §1.5.3). */
export const MAX_STRING_BYTES = 65535

export interface MqttWill {
    topic: string
    payload: string
    retain: boolean
}

export interface MqttConnectOptions {
    clientId: string
    /** 0..65535 s; 0 turns the broker's keep-alive check off (we never send 0). */
    keepAliveS: number
    /** "" = no user name (and then no password, §3.1.2.9). */
    user: string
    password: string
    will: MqttWill
}

/** Bytes the remaining-length field takes for `n` (§2.2.3). */
export function remainingLengthBytes(n: number): number {
    if (n < 128) return 1
    if (n < 16384) return 2
    if (n < 2097152) return 3
    return 4
}

/** Writes the fixed header (type+flags byte and remaining length) at 0; returns the offset after it. */
function writeFixedHeader(buf: Buffer, byte1: number, remaining: number): number {
    buf[0] = byte1
    let off = 1
    let n = remaining
    for (;;) {
        let b = n % 128
        n = Math.floor(n / 128)
        if (n > 0) b = b | 128
        buf[off++] = b
        if (n === 0) return off
    }
}

/** A packet buffer of exactly 1 + length field + `remaining` bytes with its fixed header written. */
function packet(byte1: number, remaining: number): Buffer {
    if (remaining < 0 || remaining > MAX_REMAINING_LENGTH) throw new RangeError("MQTT packet too long: " + remaining + " bytes")
    const buf = Buffer.alloc(1 + remainingLengthBytes(remaining) + remaining)
    writeFixedHeader(buf, byte1, remaining)
    return buf
}

function headerLen(remaining: number): number {
    return 1 + remainingLengthBytes(remaining)
}

function writeU16(buf: Buffer, off: number, v: number): number {
    buf[off] = (v >> 8) & 255
    buf[off + 1] = v & 255
    return off + 2
}

/** Writes a length-prefixed field (§1.5.3); returns the offset after it. */
function writeField(buf: Buffer, off: number, bytes: Buffer): number {
    off = writeU16(buf, off, bytes.length)
    buf.set(bytes, off)
    return off + bytes.length
}

function utf8(s: string): Buffer {
    const b = Buffer.from(s)
    if (b.length > MAX_STRING_BYTES) throw new RangeError("MQTT string field longer than 65535 bytes")
    return b
}

/** CONNECT (§3.1): protocol "MQTT" level 4, clean session, the will, credentials. */
export function encodeConnect(o: MqttConnectOptions): Buffer {
    const id = utf8(o.clientId)
    const willTopic = o.will ? utf8(o.will.topic) : null
    const willPayload = o.will ? utf8(o.will.payload) : null
    const user = o.user ? utf8(o.user) : null
    const password = o.user && o.password ? utf8(o.password) : null
    const keepAliveS = Math.max(0, Math.min(65535, Math.round(o.keepAliveS)))
    let flags = 0x02 // clean session
    if (o.will) flags = flags | 0x04 | (o.will.retain ? 0x20 : 0) // will, QoS 0
    if (user) flags = flags | 0x80
    if (password) flags = flags | 0x40
    let remaining = 10 + 2 + id.length
    if (o.will) remaining += 4 + willTopic.length + willPayload.length
    if (user) remaining += 2 + user.length
    if (password) remaining += 2 + password.length
    const buf = packet(PT_CONNECT << 4, remaining)
    let off = headerLen(remaining)
    off = writeField(buf, off, Buffer.from("MQTT"))
    buf[off++] = 4 // protocol level 3.1.1
    buf[off++] = flags
    off = writeU16(buf, off, keepAliveS)
    off = writeField(buf, off, id)
    if (o.will) {
        off = writeField(buf, off, willTopic)
        off = writeField(buf, off, willPayload)
    }
    if (user) off = writeField(buf, off, user)
    if (password) off = writeField(buf, off, password)
    return buf
}

/** SUBSCRIBE (§3.8) to exact topic names, each with maximum QoS 0. */
export function encodeSubscribe(packetId: number, topics: string[]): Buffer {
    const names: Buffer[] = []
    let remaining = 2
    for (const t of topics) {
        const b = utf8(t)
        names.push(b)
        remaining += 3 + b.length
    }
    const buf = packet((PT_SUBSCRIBE << 4) | 0x02, remaining)
    let off = writeU16(buf, headerLen(remaining), packetId)
    for (const b of names) {
        off = writeField(buf, off, b)
        buf[off++] = 0 // requested QoS 0
    }
    return buf
}

/** PUBLISH QoS 0 (§3.3): no packet identifier. */
export function encodePublish(topic: string, payload: string | Buffer, retain: boolean): Buffer {
    const t = utf8(topic)
    const p: Buffer = typeof payload === "string" ? Buffer.from(payload) : payload
    const remaining = 2 + t.length + p.length
    const buf = packet((PT_PUBLISH << 4) | (retain ? 1 : 0), remaining)
    const off = writeField(buf, headerLen(remaining), t)
    buf.set(p, off)
    return buf
}

/**
 * The start of a PUBLISH QoS 0 (§3.3) whose payload of payloadBytes follows in separate writes:
 * a large document then never needs one contiguous buffer of its size (the VM's heap fragments:
 * a 1.5 KB status document failed to allocate with 17 KB free in blocks of under 900 bytes).
 */
export function encodePublishHeader(topic: string, payloadBytes: number, retain: boolean): Buffer {
    const t = utf8(topic)
    const remaining = 2 + t.length + payloadBytes
    if (remaining > MAX_REMAINING_LENGTH) throw new RangeError("MQTT packet too long: " + remaining + " bytes")
    const buf = Buffer.alloc(headerLen(remaining) + 2 + t.length)
    writeField(buf, writeFixedHeader(buf, (PT_PUBLISH << 4) | (retain ? 1 : 0), remaining), t)
    return buf
}

/**
 * A JSON object document in small pieces whose concatenation is JSON.stringify(doc). The shell
 * makes them a key at a time, twice (once to add up the payload length for encodePublishHeader,
 * once to send), so no more than one key's pieces are on the heap at a time: the firmware's heap
 * fragments (a 418-byte allocation once failed with 13 KB free), and a status document's 44 keys
 * held together took kilobytes. A value that is an object (the status's `loops`, `mqtt`) is cut
 * into one piece per key of its own, so no piece holds more than one leaf key and its value.
 */
export function jsonKeys(doc: any): string[] {
    // JSON.stringify leaves out keys whose value is undefined: so do the pieces.
    const keys: string[] = []
    for (const k of Object.keys(doc)) if (doc[k] !== undefined) keys.push(k)
    return keys
}

/** The texts of key i of doc (keys = jsonKeys(doc)); with no keys, the one text "{}". */
export function jsonKeyTexts(doc: any, keys: string[], i: number): string[] {
    const out: string[] = []
    if (keys.length === 0) {
        out.push("{}")
        return out
    }
    const head = (i === 0 ? "{" : ",") + JSON.stringify(keys[i]) + ":"
    const tail = i === keys.length - 1 ? "}" : ""
    const v = doc[keys[i]]
    const sub = v !== null && typeof v === "object" && !Array.isArray(v) ? jsonKeys(v) : null
    if (sub === null || sub.length === 0) out.push(head + JSON.stringify(v) + tail)
    else
        for (let j = 0; j < sub.length; j++)
            out.push((j === 0 ? head + "{" : ",") + JSON.stringify(sub[j]) + ":" + JSON.stringify(v[sub[j]]) + (j === sub.length - 1 ? "}" + tail : ""))
    return out
}

/** How many keys' texts doc makes (at least one: "{}"). */
export function jsonKeyCount(keys: string[]): number {
    return keys.length === 0 ? 1 : keys.length
}

/**
 * Longest chunk of a published document, characters: small blocks for a fragmented heap, and few
 * enough of them that sending a status document is a handful of socket writes (each one a wait
 * during which the broker's data piles up in the socket) rather than one per key.
 */
export const DOC_CHUNK_CHARS = 240

/** doc's JSON text (JSON.stringify(doc)) in chunks of at most maxChars (a longer key text alone). */
export function jsonChunks(doc: any, maxChars: number): string[] {
    const keys = jsonKeys(doc)
    const out: string[] = []
    let cur = ""
    for (let i = 0; i < jsonKeyCount(keys); i++)
        for (const t of jsonKeyTexts(doc, keys, i)) {
            if (cur.length > 0 && cur.length + t.length > maxChars) {
                out.push(cur)
                cur = ""
            }
            cur += t
        }
    out.push(cur)
    return out
}

/** PUBACK / PUBREC / PUBCOMP (§3.4, §3.5, §3.7): the packet identifier only. */
export function encodeAck(type: number, packetId: number): Buffer {
    const buf = packet(type << 4, 2)
    writeU16(buf, 2, packetId)
    return buf
}

/** PINGREQ (§3.12). */
export function encodePingreq(): Buffer {
    return packet(PT_PINGREQ << 4, 0)
}

/** DISCONNECT (§3.14): the broker then discards the will. */
export function encodeDisconnect(): Buffer {
    return packet(PT_DISCONNECT << 4, 0)
}

/** CONNACK return codes (§3.2.2.3), for logs and events. */
export function connackReason(code: number): string {
    if (code === 0) return "accepted"
    if (code === 1) return "unacceptable protocol version"
    if (code === 2) return "client identifier rejected"
    if (code === 3) return "server unavailable"
    if (code === 4) return "bad user name or password"
    if (code === 5) return "not authorized"
    return "unknown return code " + code
}
