// The MQTT 3.1.1 framer/parser of the HEMS link (src/core/hems/): packets we send, checked by an
// independent implementation (mqtt-packet, the parser aedes and mqtt.js use); the incremental
// decoder fed thousands of random streams of broker packets cut into random chunks, and mutated
// streams (flipped bytes, truncations, junk): it never throws, never holds more than
// maxPayloadBytes of a payload, reports each oversize message once with its size, and stops at
// the first protocol error with a reason.
import fc from "fast-check"
import mqttPacket from "mqtt-packet"
import { describe, expect, it } from "vitest"
import {
    encodeAck,
    encodeConnect,
    encodeDisconnect,
    encodePingreq,
    encodePublish,
    encodeSubscribe,
    PT_PUBACK,
    PT_PUBCOMP,
    PT_PUBREC,
    remainingLengthBytes,
    encodePublishHeader,
    DOC_CHUNK_CHARS,
    jsonChunks,
    jsonKeyCount,
    jsonKeyTexts,
    jsonKeys,
    connackReason,
    MAX_REMAINING_LENGTH,
    MAX_STRING_BYTES,
} from "../../src/core/hems/mqtt-codec"
import { MqttDecoder, type MqttIn } from "../../src/core/hems/mqtt-decoder"

const RUNS = Number(process.env.FC_RUNS ?? 1000)
const CMD = "charger/c0ffee00c0ffee01/cmd"
const HA = "homeassistant/status"
const TOPICS = [CMD, HA]
const MAX = 512

/** Every packet mqtt-packet parses out of `buf` (throws on a parse error). */
function parseAll(buf: Buffer): any[] {
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    const out: any[] = []
    parser.on("packet", (p: any) => out.push(p))
    parser.on("error", (e: Error) => {
        throw e
    })
    parser.parse(buf)
    return out
}

const gen = (p: object) => Buffer.from(mqttPacket.generate(p as any, { protocolVersion: 4 }))

/** Feeds `stream` in the given chunk sizes; returns everything the decoder handed out. */
function decodeChunked(d: MqttDecoder, stream: Buffer, cuts: number[]): MqttIn[] {
    const out: MqttIn[] = []
    let pos = 0
    let i = 0
    while (pos < stream.length) {
        const n = Math.max(1, cuts.length ? cuts[i++ % cuts.length] : stream.length)
        d.push(stream.subarray(pos, pos + n))
        pos += n
        for (let p = d.next(); p; p = d.next()) out.push(p)
    }
    return out
}

const str = (max: number) => fc.string({ maxLength: max, unit: "grapheme" })

describe("packets we send, parsed by mqtt-packet", () => {
    it("CONNECT carries client id, keep-alive, clean session, the retained QoS 0 will, user and password", () => {
        fc.assert(
            fc.property(str(30), fc.integer({ min: 0, max: 65535 }), str(20), str(20), str(40), fc.boolean(), (id, ka, user, pw, willTopic, retain) => {
                const [p] = parseAll(encodeConnect({ clientId: id, keepAliveS: ka, user, password: pw, will: { topic: willTopic || "t", payload: "false", retain } }))
                expect(p.cmd).toBe("connect")
                expect(p.protocolId).toBe("MQTT")
                expect(p.protocolVersion).toBe(4)
                expect(p.clientId).toBe(id)
                expect(p.keepalive).toBe(ka)
                expect(p.clean).toBe(true)
                expect(p.will.topic).toBe(willTopic || "t")
                expect(Buffer.from(p.will.payload).toString()).toBe("false")
                expect(p.will.retain).toBe(retain)
                expect(p.will.qos).toBe(0)
                expect(p.username).toBe(user ? user : undefined)
                // A password is sent only with a user name (§3.1.2.9).
                expect(p.password ? Buffer.from(p.password).toString() : undefined).toBe(user && pw ? pw : undefined)
            }),
            { numRuns: RUNS },
        )
    })

    it("PUBLISH QoS 0 of any size frames the topic, payload and retain flag (also 16 KB+ and 2 MB+)", () => {
        fc.assert(
            fc.property(str(60).filter(t => t.length > 0), fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(127, 128, 16383, 16384, 20000, 2097152)), fc.boolean(), (topic, size, retain) => {
                const payload = Buffer.alloc(size, 0x61)
                const [p] = parseAll(encodePublish(topic, payload, retain))
                expect(p).toMatchObject({ cmd: "publish", topic, qos: 0, retain })
                expect(Buffer.compare(p.payload, payload)).toBe(0)
            }),
            { numRuns: Math.min(RUNS, 200) },
        )
        expect(remainingLengthBytes(127)).toBe(1)
        expect(remainingLengthBytes(128)).toBe(2)
        expect(remainingLengthBytes(16384)).toBe(3)
        expect(remainingLengthBytes(2097152)).toBe(4)
    })

    it("SUBSCRIBE asks QoS 0 for each exact topic; PINGREQ, DISCONNECT and the acks", () => {
        const [s] = parseAll(encodeSubscribe(7, TOPICS))
        expect(s).toMatchObject({ cmd: "subscribe", messageId: 7 })
        expect(s.subscriptions).toEqual(TOPICS.map(topic => expect.objectContaining({ topic, qos: 0 })))
        expect(parseAll(encodePingreq())[0].cmd).toBe("pingreq")
        expect(parseAll(encodeDisconnect())[0].cmd).toBe("disconnect")
        expect(parseAll(encodeAck(PT_PUBACK, 513))[0]).toMatchObject({ cmd: "puback", messageId: 513 })
        expect(parseAll(encodeAck(PT_PUBREC, 2))[0]).toMatchObject({ cmd: "pubrec", messageId: 2 })
        expect(parseAll(encodeAck(PT_PUBCOMP, 65535))[0]).toMatchObject({ cmd: "pubcomp", messageId: 65535 })
    })
})

/** A broker packet and what the decoder must make of it. */
interface Case {
    bytes: Buffer
    expect: Partial<MqttIn>
}

const caseArb: fc.Arbitrary<Case> = fc.oneof(
    fc.record({ sp: fc.boolean(), rc: fc.integer({ min: 0, max: 5 }) }).map(({ sp, rc }) => ({
        bytes: gen({ cmd: "connack", sessionPresent: sp, returnCode: rc }),
        expect: { kind: "connack", code: rc, sessionPresent: sp } as Partial<MqttIn>,
    })),
    fc
        .record({
            topic: fc.oneof(fc.constantFrom(CMD, HA), fc.constantFrom(CMD + "x", "charger/c0ffee00c0ffee01/cmc", "a", "charger/other/cmd"), str(40).filter(t => t.length > 0)),
            size: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.constantFrom(MAX, MAX + 1, 16384, 70000)),
            qos: fc.constantFrom(0, 1, 2),
            retain: fc.boolean(),
            dup: fc.boolean(),
            id: fc.integer({ min: 1, max: 65535 }),
        })
        .map(({ topic, size, qos, retain, dup, id }) => {
            const payload = Buffer.alloc(size, 0x7b)
            const bytes = gen({ cmd: "publish", topic, payload, qos, retain, dup: qos > 0 && dup, messageId: qos > 0 ? id : undefined })
            const packetId = qos > 0 ? id : 0
            const ours = TOPICS.includes(topic)
            const common = { qos, retain, packetId }
            const e: Partial<MqttIn> = !ours
                ? { kind: "ignored", ...common }
                : size > MAX
                  ? { kind: "dropped", topic, sizeBytes: size, ...common }
                  : { kind: "publish", topic, payload, ...common }
            return { bytes, expect: e }
        }),
    fc.integer({ min: 1, max: 65535 }).map(id => ({ bytes: gen({ cmd: "suback", messageId: id, granted: [0, 128] }), expect: { kind: "suback", packetId: id, codes: [0, 128] } as Partial<MqttIn> })),
    fc.constant({ bytes: gen({ cmd: "pingresp" }), expect: { kind: "pingresp" } as Partial<MqttIn> }),
    fc.integer({ min: 1, max: 65535 }).map(id => ({ bytes: gen({ cmd: "puback", messageId: id }), expect: { kind: "puback", packetId: id } as Partial<MqttIn> })),
    fc.integer({ min: 1, max: 65535 }).map(id => ({ bytes: gen({ cmd: "pubrel", messageId: id }), expect: { kind: "pubrel", packetId: id } as Partial<MqttIn> })),
    fc.integer({ min: 1, max: 65535 }).map(id => ({ bytes: gen({ cmd: "unsuback", messageId: id }), expect: { kind: "unsuback", packetId: id } as Partial<MqttIn> })),
)

const cutsArb = fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 })

describe("incremental decoder", () => {
    it("any stream of broker packets cut anywhere decodes to exactly the packets sent", () => {
        fc.assert(
            fc.property(fc.array(caseArb, { minLength: 1, maxLength: 12 }), cutsArb, (cases, cuts) => {
                const d = new MqttDecoder(TOPICS, MAX)
                const got = decodeChunked(d, Buffer.concat(cases.map(c => c.bytes)), cuts)
                expect(got.length).toBe(cases.length)
                cases.forEach((c, i) => expect(got[i]).toMatchObject(c.expect))
                expect(d.midPacket()).toBe(false)
                expect(d.stats.dropped).toBe(cases.filter(c => c.expect.kind === "dropped").length)
                expect(d.stats.ignored).toBe(cases.filter(c => c.expect.kind === "ignored").length)
            }),
            { numRuns: RUNS },
        )
    })

    it("100 messages in one read: all decoded from a single chunk", () => {
        const msgs = Array.from({ length: 100 }, (_, i) => gen({ cmd: "publish", topic: CMD, payload: Buffer.from(`{"mode":"setpoint","setpoint_w":${i}}`), qos: 0 }))
        const d = new MqttDecoder(TOPICS, MAX)
        const got = decodeChunked(d, Buffer.concat(msgs), [])
        expect(got.map(p => p.payload!.toString())).toEqual(msgs.map((_, i) => `{"mode":"setpoint","setpoint_w":${i}}`))
    })

    it("a 1 MB message on the command topic is skipped as it streams, reported once with its size, never buffered", () => {
        const big = gen({ cmd: "publish", topic: CMD, payload: Buffer.alloc(1 << 20, 0x20), qos: 0 })
        const after = gen({ cmd: "publish", topic: CMD, payload: Buffer.from("{}"), qos: 0 })
        const d = new MqttDecoder(TOPICS, MAX)
        const got = decodeChunked(d, Buffer.concat([big, after]), [1460])
        expect(got).toEqual([
            expect.objectContaining({ kind: "dropped", topic: CMD, sizeBytes: 1 << 20 }),
            expect.objectContaining({ kind: "publish", topic: CMD, payload: Buffer.from("{}") }),
        ])
        expect(got[0].payload).toBeUndefined()
        expect(d.stats).toMatchObject({ dropped: 1, droppedMaxBytes: 1 << 20 })
    })

    it("mutated streams (flipped bytes, junk, cuts) never throw, never buffer more than the limit, stop at the first error", () => {
        fc.assert(
            fc.property(
                fc.array(caseArb, { minLength: 1, maxLength: 6 }),
                fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
                fc.uint8Array({ maxLength: 16 }),
                cutsArb,
                (cases, flips, junk, cuts) => {
                    const stream = Buffer.concat([...cases.map(c => c.bytes), Buffer.from(junk)])
                    for (const f of flips) stream[f.at % stream.length] = f.byte
                    const d = new MqttDecoder(TOPICS, MAX)
                    const got = decodeChunked(d, stream, cuts)
                    for (const p of got) if (p.payload) expect(p.payload.length).toBeLessThanOrEqual(MAX)
                    const errors = got.filter(p => p.kind === "error")
                    expect(errors.length).toBeLessThanOrEqual(1)
                    if (errors.length) {
                        expect(got[got.length - 1].kind).toBe("error")
                        expect(errors[0].reason).toMatch(/^protocol error: .{8,}/)
                        expect(d.failed()).toBe(true)
                    }
                },
            ),
            { numRuns: RUNS },
        )
    })

    it("a truncated packet leaves the decoder mid-packet (the shell closes it on the socket's end); reset starts clean", () => {
        const p = gen({ cmd: "publish", topic: CMD, payload: Buffer.from("{\"mode\":\"idle\"}"), qos: 0 })
        const d = new MqttDecoder(TOPICS, MAX)
        expect(decodeChunked(d, p.subarray(0, p.length - 3), [])).toEqual([])
        expect(d.midPacket()).toBe(true)
        d.reset()
        expect(decodeChunked(d, p, [])).toEqual([expect.objectContaining({ kind: "publish" })])
    })

    const errorOf = (bytes: number[]) => {
        const got = decodeChunked(new MqttDecoder(TOPICS, MAX), Buffer.from(bytes), [1])
        expect(got.length).toBe(1)
        expect(got[0].kind).toBe("error")
        return got[0].reason
    }

    it("protocol errors, each named: remaining length, types, flags, lengths, QoS 3, empty topic, packet id 0", () => {
        expect(errorOf([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])).toMatch(/remaining length longer than 4 bytes/)
        expect(errorOf([0x30, 0x80, 0x00])).toMatch(/not minimally encoded/)
        expect(errorOf([0xd0, 0x80, 0x80, 0x00])).toMatch(/not minimally encoded/)
        expect(errorOf([0x00, 0x00])).toMatch(/reserved packet type 0/)
        expect(errorOf([0xf0, 0x00])).toMatch(/reserved packet type 15/)
        for (const t of [1, 8, 10, 12, 14]) expect(errorOf([t << 4, 0])).toMatch(/sent by clients only/)
        expect(errorOf([0x36, 0x05])).toMatch(/QoS 3/)
        expect(errorOf([0x61, 0x02])).toMatch(/PUBREL with flags 1/)
        expect(errorOf([0x21, 0x02])).toMatch(/flags 1/)
        expect(errorOf([0x20, 0x03])).toMatch(/of 3 bytes \(must be 2\)/)
        expect(errorOf([0xd0, 0x01])).toMatch(/of 1 bytes \(must be 0\)/)
        expect(errorOf([0x90, 0x02])).toMatch(/SUBACK of 2 bytes/)
        expect(errorOf([0x90, 0x03, 0, 1, 7])).toMatch(/SUBACK return code 7/)
        expect(errorOf([0x20, 0x02, 0x02, 0x00])).toMatch(/acknowledge flags 2/)
        expect(errorOf([0x30, 0x02])).toMatch(/shorter than a topic/)
        expect(errorOf([0x30, 0x03, 0x00, 0x00, 0x41])).toMatch(/empty topic/)
        expect(errorOf([0x30, 0x04, 0x00, 0x09, 0x41, 0x41])).toMatch(/topic of 9 bytes longer than the packet/)
        expect(errorOf([0x32, 0x05, 0x00, 0x01, 0x41, 0x00, 0x00])).toMatch(/packet identifier 0/)
        // Control packets are not buffered beyond a small fixed size.
        expect(errorOf([0x90, 0x80, 0x80, 0x01])).toMatch(/SUBACK of 16384 bytes/)
    })

    it("after an error, further input is ignored until reset", () => {
        const d = new MqttDecoder(TOPICS, MAX)
        const ok = gen({ cmd: "pingresp" })
        const got = decodeChunked(d, Buffer.concat([Buffer.from([0xf0, 0]), ok, ok]), [])
        expect(got.map(p => p.kind)).toEqual(["error"])
        d.reset()
        expect(decodeChunked(d, ok, []).map(p => p.kind)).toEqual(["pingresp"])
    })
})

/** Every piece of doc, as the shell makes them a key at a time. */
const jsonPieces = (doc: any): Buffer[] => {
    const keys = jsonKeys(doc)
    const out: Buffer[] = []
    for (let i = 0; i < jsonKeyCount(keys); i++) for (const t of jsonKeyTexts(doc, keys, i)) out.push(Buffer.from(t))
    return out
}

describe("a document published in pieces (no buffer of the whole document)", () => {
    it("header + pieces are byte for byte the PUBLISH of JSON.stringify(doc)", () => {
        const leaf = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.array(fc.integer(), { maxLength: 4 }))
        // objects as values too (the status's loops and mqtt), themselves holding objects or leaves
        const value = fc.oneof(leaf, fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(leaf, fc.dictionary(fc.string({ maxLength: 4 }), leaf, { maxKeys: 3 })), { maxKeys: 6 }))
        fc.assert(
            fc.property(fc.dictionary(fc.string({ maxLength: 12 }), value, { maxKeys: 50 }), fc.string({ minLength: 1, maxLength: 40 }), fc.boolean(), (doc, topic, retain) => {
                const pieces = jsonPieces(doc)
                const bytes = pieces.reduce((n, p) => n + p.length, 0)
                const whole = Buffer.concat([encodePublishHeader(topic, bytes, retain), ...pieces])
                expect(whole.equals(encodePublish(topic, JSON.stringify(doc), retain))).toBe(true)
            }),
            { numRuns: 500 },
        )
    })

    it("no piece is larger than one key and its value", () => {
        const doc: any = {}
        for (let i = 0; i < 60; i++) doc["field_" + i] = 1000 + i
        const pieces = jsonPieces(doc)
        expect(pieces).toHaveLength(60)
        expect(Math.max(...pieces.map(p => p.length))).toBeLessThan(20)
        expect(Buffer.concat(pieces).toString()).toBe(JSON.stringify(doc))
        expect(jsonPieces({}).map(p => p.toString())).toEqual(["{}"])
    })

    it("chunks: their concatenation is the document, none longer than the bound unless one key's text is", () => {
        const doc: any = { a: 1, loops: {}, mqtt: {}, long: "x".repeat(300) }
        for (let i = 0; i < 20; i++) doc.mqtt["counter_" + i] = 100000 + i
        for (const l of ["protection", "v2h"]) doc.loops[l] = { runs: 12345, max_run_ms: 3, max_late_ms: 260, recent_late_ms: 1, overruns: 0 }
        const chunks = jsonChunks(doc, DOC_CHUNK_CHARS)
        expect(chunks.join("")).toBe(JSON.stringify(doc))
        expect(chunks.filter(c => c.length > DOC_CHUNK_CHARS).map(c => c.slice(0, 10))).toEqual([',"long":"x'])
        expect(chunks.length).toBeLessThan(jsonPieces(doc).length)
        expect(jsonChunks({}, DOC_CHUNK_CHARS)).toEqual(["{}"])
        fc.assert(
            fc.property(fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.integer(), fc.string({ maxLength: 60 }), fc.dictionary(fc.string({ maxLength: 6 }), fc.integer(), { maxKeys: 5 })), { maxKeys: 40 }), fc.integer({ min: 1, max: 300 }), (d, max) => {
                expect(jsonChunks(d, max).join("")).toBe(JSON.stringify(d))
            }),
            { numRuns: 300 },
        )
    })

    it("an object value is cut into a piece per key of its own", () => {
        const doc: any = { a: 1, loops: {}, mqtt: {} }
        for (let i = 0; i < 20; i++) doc.mqtt["counter_" + i] = 100000 + i
        for (const l of ["protection", "v2h"]) doc.loops[l] = { runs: 12345, max_run_ms: 3, max_late_ms: 260, recent_late_ms: 1, overruns: 0 }
        const pieces = jsonPieces(doc)
        expect(pieces).toHaveLength(1 + 2 + 20)
        expect(Math.max(...pieces.map(p => p.length))).toBeLessThan(120) // one loop: {"protection":{...five counters}}
        expect(Buffer.concat(pieces).toString()).toBe(JSON.stringify(doc))
        expect(jsonPieces({ e: {} }).map(p => p.toString())).toEqual(['{"e":{}}'])
    })
})

describe("limits and texts at their edges", () => {
    it("a PUBLISH header takes a payload up to the largest remaining length MQTT can say, not one byte more", () => {
        // the header alone is allocated: the payload length is only a number here
        const head = encodePublishHeader("t", MAX_REMAINING_LENGTH - 3, false)
        expect(head.length).toBe(1 + 4 + 2 + 1)
        expect(() => encodePublishHeader("t", MAX_REMAINING_LENGTH - 2, false)).toThrow(/too long: 268435456 bytes/)
    })

    it("a topic (a UTF-8 string field) may have 65535 bytes, not 65536", () => {
        expect(encodePublishHeader("a".repeat(MAX_STRING_BYTES), 0, true).length).toBe(1 + 3 + 2 + MAX_STRING_BYTES)
        expect(() => encodePublishHeader("a".repeat(MAX_STRING_BYTES + 1), 0, true)).toThrow(/longer than 65535 bytes/)
    })

    it("CONNECT flags: clean session only, without a will or credentials; the user name alone adds its flag", () => {
        const flagsOf = (b: Buffer) => b[2 + 6 + 1] // fixed header (2), "MQTT" field (6), level (1)
        expect(flagsOf(encodeConnect({ clientId: "c", keepAliveS: 60 } as any))).toBe(0x02)
        expect(flagsOf(encodeConnect({ clientId: "c", keepAliveS: 60, user: "u" } as any))).toBe(0x82)
        expect(flagsOf(encodeConnect({ clientId: "c", keepAliveS: 60, user: "u", password: "p" } as any))).toBe(0xc2)
        expect(flagsOf(encodeConnect({ clientId: "c", keepAliveS: 60, password: "p" } as any))).toBe(0x02) // no password without a user
    })

    it("every CONNACK return code has its text", () => {
        expect([0, 1, 2, 3, 4, 5, 9].map(connackReason)).toEqual([
            "accepted",
            "unacceptable protocol version",
            "client identifier rejected",
            "server unavailable",
            "bad user name or password",
            "not authorized",
            "unknown return code 9",
        ])
    })

    it("chunks fill up to exactly the bound and are never empty", () => {
        // {"a":1 (6) ,"b":2 (6) ,"c":3} (7): 12 characters fit a bound of 12, not of 11
        expect(jsonChunks({ a: 1, b: 2, c: 3 }, 12)).toEqual(['{"a":1,"b":2', ',"c":3}'])
        expect(jsonChunks({ a: 1, b: 2, c: 3 }, 11)).toEqual(['{"a":1', ',"b":2', ',"c":3}'])
        expect(jsonChunks({ long: "x".repeat(50), b: 2 }, 10)).toEqual(['{"long":"' + "x".repeat(50) + '"', ',"b":2}'])
    })
})

