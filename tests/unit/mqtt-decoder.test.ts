// The incremental MQTT decoder (src/core/hems/mqtt-decoder.ts) at its edges, with exact results:
// the protocol-error texts the link reports as its close reason, control packets cut at every
// byte, topics that share a length or a prefix, topics over 255 bytes, empty payloads delivered
// at once, the statistics the status document shows. mqtt-codec.test.ts holds the random-stream
// properties (any stream cut anywhere, mutated streams).
import mqttPacket from "mqtt-packet"
import { describe, expect, it } from "vitest"
import { CONTROL_BODY_MAX_BYTES, MqttDecoder, type MqttIn } from "../../src/core/hems/mqtt-decoder"

const gen = (p: object) => Buffer.from(mqttPacket.generate(p as any, { protocolVersion: 4 }))

/** Pushes each chunk and takes everything next() hands out before the following push. */
function decode(d: MqttDecoder, ...chunks: Buffer[]): MqttIn[] {
    const out: MqttIn[] = []
    for (const c of chunks) {
        d.push(c)
        for (let p = d.next(); p; p = d.next()) out.push(p)
    }
    return out
}

/** The reason of the single item a stream of raw bytes gives, which must be an error. */
function reasonOf(bytes: number[], topics = ["charger/x/cmd"]): string {
    const got = decode(new MqttDecoder(topics, 512), Buffer.from(bytes))
    expect(got.map(p => p.kind)).toEqual(["error"])
    return got[0].reason
}

describe("MQTT decoder: protocol-error texts (the link's close reason)", () => {
    it("name the offending value in full", () => {
        expect(reasonOf([0x30, 0x80, 0x00])).toBe("protocol error: remaining length not minimally encoded (2 bytes for 0)")
        expect(reasonOf([0xd0, 0x80, 0x80, 0x00])).toBe("protocol error: remaining length not minimally encoded (3 bytes for 0)")
        expect(reasonOf([0x61, 0x02])).toBe("protocol error: PUBREL with flags 1 (must be 2)")
        expect(reasonOf([0x21, 0x02])).toBe("protocol error: packet type 2 with flags 1 (must be 0)")
        expect(reasonOf([0x10, 0x00])).toBe("protocol error: packet type 1 is sent by clients only")
        expect(reasonOf([0x20, 0x03])).toBe("protocol error: packet type 2 of 3 bytes (must be 2)")
        expect(reasonOf([0x90, 0x02])).toBe("protocol error: SUBACK of 2 bytes (expected 3..32)")
        expect(reasonOf([0x20, 0x02, 0x02, 0x00])).toBe("protocol error: CONNACK acknowledge flags 2 (only bit 0 allowed)")
        expect(reasonOf([0x32, 0x05, 0x00, 0x01, 0x41, 0x00, 0x00])).toBe("protocol error: PUBLISH QoS 1 with packet identifier 0")
        expect(reasonOf([0x34, 0x05, 0x00, 0x01, 0x41, 0x00, 0x00])).toBe("protocol error: PUBLISH QoS 2 with packet identifier 0")
    })

    it("a PUBLISH too short for its topic, and at QoS 1/2 for its packet identifier too", () => {
        expect(reasonOf([0x30, 0x02, 0x00, 0x01])).toBe("protocol error: PUBLISH of 2 bytes is shorter than a topic")
        // QoS 1: 2 length bytes + 1 topic byte + 2 id bytes = 5 at least; 4 is refused as the length is read.
        expect(reasonOf([0x32, 0x04, 0x00, 0x01, 0x41, 0x00])).toBe("protocol error: PUBLISH of 4 bytes is shorter than a topic and a packet identifier")
        expect(reasonOf([0x34, 0x03, 0x00, 0x01, 0x41])).toBe("protocol error: PUBLISH of 3 bytes is shorter than a topic and a packet identifier")
    })

    it("a QoS 1 topic that leaves no room for the packet identifier is refused before the topic is read", () => {
        // 5 bytes: topic length 2, topic "AA", one byte left where the identifier needs two.
        expect(reasonOf([0x32, 0x05, 0x00, 0x02, 0x41, 0x41, 0x00])).toBe("protocol error: PUBLISH topic of 2 bytes longer than the packet")
        // The same topic at QoS 0 fits (one payload byte).
        const got = decode(new MqttDecoder(["AA"], 512), Buffer.from([0x30, 0x05, 0x00, 0x02, 0x41, 0x41, 0x7b]))
        expect(got).toEqual([{ kind: "publish", topic: "AA", payload: Buffer.from("{"), qos: 0, retain: false, dup: false, packetId: 0 }])
    })
})

describe("MQTT decoder: control packets", () => {
    const stream = Buffer.concat([
        gen({ cmd: "connack", sessionPresent: true, returnCode: 0 }),
        gen({ cmd: "suback", messageId: 7, granted: [0, 1, 2, 128] }),
        gen({ cmd: "puback", messageId: 258 }),
        gen({ cmd: "pubrec", messageId: 259 }),
        gen({ cmd: "pubrel", messageId: 260 }),
        gen({ cmd: "pubcomp", messageId: 261 }),
        gen({ cmd: "unsuback", messageId: 262 }),
        gen({ cmd: "pingresp" }),
    ])
    const expected: MqttIn[] = [
        { kind: "connack", sessionPresent: true, code: 0 },
        { kind: "suback", packetId: 7, codes: [0, 1, 2, 128] },
        { kind: "puback", packetId: 258 },
        { kind: "pubrec", packetId: 259 },
        { kind: "pubrel", packetId: 260 },
        { kind: "pubcomp", packetId: 261 },
        { kind: "unsuback", packetId: 262 },
        { kind: "pingresp" },
    ]

    it("every kind a server may send, and every SUBACK return code (0, 1, 2 granted, 0x80 refused)", () => {
        expect(decode(new MqttDecoder(["t"], 512), stream)).toEqual(expected)
    })

    it("CONNACK: the session-present flag either way, and the return code", () => {
        const d = new MqttDecoder(["t"], 512)
        expect(decode(d, Buffer.from([0x20, 0x02, 0x00, 0x00]))).toEqual([{ kind: "connack", sessionPresent: false, code: 0 }])
        expect(decode(d, Buffer.from([0x20, 0x02, 0x01, 0x05]))).toEqual([{ kind: "connack", sessionPresent: true, code: 5 }])
    })

    it("cut in two at every byte (the rest and the following packets in the second chunk): the same packets", () => {
        for (let k = 1; k < stream.length; k++) {
            const d = new MqttDecoder(["t"], 512)
            expect(decode(d, stream.subarray(0, k), stream.subarray(k))).toEqual(expected)
            expect(d.midPacket()).toBe(false)
        }
    })

    it("a SUBACK may carry up to 30 return codes (32 bytes), not 31", () => {
        const ok = Buffer.from([0x90, CONTROL_BODY_MAX_BYTES, 0x00, 0x05, ...new Array(CONTROL_BODY_MAX_BYTES - 2).fill(0)])
        expect(decode(new MqttDecoder(["t"], 512), ok)).toEqual([{ kind: "suback", packetId: 5, codes: new Array(30).fill(0) }])
        expect(reasonOf([0x90, CONTROL_BODY_MAX_BYTES + 1])).toBe("protocol error: SUBACK of 33 bytes (expected 3..32)")
    })
})

describe("MQTT decoder: topics", () => {
    it("topics of the same length, and one the prefix of another, each reported as itself", () => {
        const topics = ["a/b", "a/c", "a/b/c"]
        const d = new MqttDecoder(topics, 512)
        const got = decode(d, Buffer.concat(["a/b", "a/c", "a/b/c", "a/d", "a/b/"].map(t => gen({ cmd: "publish", topic: t, payload: Buffer.from(t), qos: 0 }))))
        expect(got.map(p => [p.kind, p.topic, p.payload?.toString()])).toEqual([
            ["publish", "a/b", "a/b"],
            ["publish", "a/c", "a/c"],
            ["publish", "a/b/c", "a/b/c"],
            ["ignored", undefined, undefined],
            ["ignored", undefined, undefined],
        ])
        expect(d.stats.ignored).toBe(2)
    })

    it("a topic over 255 bytes (two-byte length) is matched, and an unknown one skipped exactly", () => {
        const long = "charger/" + "x".repeat(300)
        const d = new MqttDecoder([long], 512)
        const got = decode(
            d,
            Buffer.concat([
                gen({ cmd: "publish", topic: "other/" + "y".repeat(400), payload: Buffer.from("{}"), qos: 0 }),
                gen({ cmd: "publish", topic: long, payload: Buffer.from("{}"), qos: 0 }),
                gen({ cmd: "pingresp" }),
            ]),
        )
        expect(got.map(p => [p.kind, p.topic])).toEqual([
            ["ignored", undefined],
            ["publish", long],
            ["pingresp", undefined],
        ])
    })

    it("an ignored message reports its whole packet body and no topic", () => {
        // QoS 1 on "zz": 2 + 2 (topic) + 2 (id) + 10 payload bytes.
        const got = decode(new MqttDecoder(["t"], 512), gen({ cmd: "publish", topic: "zz", payload: Buffer.alloc(10, 0x7b), qos: 1, messageId: 3 }))
        expect(got).toEqual([{ kind: "ignored", sizeBytes: 16, qos: 1, retain: false, dup: false, packetId: 3 }])
    })
})

describe("MQTT decoder: payloads", () => {
    it("messages cut in two at every byte (topic, identifier, payload, a skipped one), or fed a byte at a time: each whole", () => {
        const topic = "charger/x/cmd"
        const payload = Buffer.from('{"mode":"setpoint","setpoint_w":-3700}')
        const stream = Buffer.concat([
            gen({ cmd: "publish", topic, payload, qos: 1, messageId: 0x1234 }),
            gen({ cmd: "publish", topic: "charger/y/cmd", payload: Buffer.from("not ours"), qos: 0 }),
            gen({ cmd: "pingresp" }),
        ])
        const want = [
            { kind: "publish", topic, payload, qos: 1, retain: false, dup: false, packetId: 0x1234 },
            { kind: "ignored", sizeBytes: 2 + 13 + 8, qos: 0, retain: false, dup: false, packetId: 0 },
            { kind: "pingresp" },
        ]
        for (let k = 1; k < stream.length; k++) expect(decode(new MqttDecoder([topic], 512), stream.subarray(0, k), stream.subarray(k))).toEqual(want)
        const bytes = Array.from(stream, b => Buffer.from([b]))
        expect(decode(new MqttDecoder([topic], 512), ...bytes)).toEqual(want)
    })

    it("a payload of exactly maxPayloadBytes is a message; one byte more is dropped, reported with its size", () => {
        const d = new MqttDecoder(["a"], 64)
        const got = decode(d, gen({ cmd: "publish", topic: "a", payload: Buffer.alloc(64, 0x31), qos: 0 }), gen({ cmd: "publish", topic: "a", payload: Buffer.alloc(65, 0x31), qos: 0 }))
        expect(got.map(p => [p.kind, p.payload?.length, p.sizeBytes])).toEqual([
            ["publish", 64, undefined],
            ["dropped", undefined, 65],
        ])
    })

    it("an empty payload on our topic is a message, handed out at once (not when the next chunk comes)", () => {
        const d = new MqttDecoder(["a"], 512)
        expect(decode(d, Buffer.from([0x31, 0x03, 0x00, 0x01, 0x61]))).toEqual([{ kind: "publish", topic: "a", payload: Buffer.alloc(0), qos: 0, retain: true, dup: false, packetId: 0 }])
        expect(d.midPacket()).toBe(false)
    })

    it("an empty payload on another topic is ignored and leaves the decoder between packets", () => {
        const d = new MqttDecoder(["a"], 512)
        expect(decode(d, Buffer.from([0x30, 0x03, 0x00, 0x01, 0x62])).map(p => p.kind)).toEqual(["ignored"])
        expect(d.midPacket()).toBe(false)
    })

    it("the DUP flag of a redelivered QoS 1/2 message is reported", () => {
        const d = new MqttDecoder(["a"], 512)
        const got = decode(
            d,
            gen({ cmd: "publish", topic: "a", payload: Buffer.from("1"), qos: 1, messageId: 1, dup: true }),
            gen({ cmd: "publish", topic: "a", payload: Buffer.from("2"), qos: 2, messageId: 2, dup: false }),
        )
        expect(got.map(p => [p.qos, p.packetId, p.dup])).toEqual([
            [1, 1, true],
            [2, 2, false],
        ])
    })

    it("droppedMaxBytes is the largest oversize message, also when a smaller one comes later", () => {
        const d = new MqttDecoder(["a"], 10)
        const got = decode(d, gen({ cmd: "publish", topic: "a", payload: Buffer.alloc(500), qos: 0 }), gen({ cmd: "publish", topic: "a", payload: Buffer.alloc(20), qos: 0 }))
        expect(got.map(p => [p.kind, p.sizeBytes])).toEqual([
            ["dropped", 500],
            ["dropped", 20],
        ])
        expect(d.stats).toMatchObject({ dropped: 2, droppedMaxBytes: 500 })
    })
})

describe("MQTT decoder: state and statistics", () => {
    it("next() before any push, and again after the chunk is used up, returns null", () => {
        const d = new MqttDecoder(["a"], 512)
        expect(d.next()).toBeNull()
        d.push(gen({ cmd: "pingresp" }))
        expect(d.next()).toEqual({ kind: "pingresp" })
        expect(d.next()).toBeNull()
        expect(d.next()).toBeNull()
    })

    it("mid-packet while a packet is incomplete; after an error failed, and not mid-packet, until reset", () => {
        const d = new MqttDecoder(["a"], 512)
        expect([d.failed(), d.midPacket()]).toEqual([false, false])
        decode(d, Buffer.from([0x40, 0x02, 0x00]))
        expect([d.failed(), d.midPacket()]).toEqual([false, true])
        // The PUBACK ends; then a reserved type.
        expect(decode(d, Buffer.from([0x01, 0xf0])).map(p => p.kind)).toEqual(["puback", "error"])
        expect([d.failed(), d.midPacket()]).toEqual([true, false])
        d.reset()
        expect([d.failed(), d.midPacket()]).toEqual([false, false])
    })

    it("counts the bytes and packets received until a protocol error; nothing after it", () => {
        const d = new MqttDecoder(["a"], 512)
        const ping = gen({ cmd: "pingresp" })
        const pub = gen({ cmd: "publish", topic: "a", payload: Buffer.from("{}"), qos: 0 })
        decode(d, ping, pub)
        expect(d.stats).toMatchObject({ bytesIn: ping.length + pub.length, packetsIn: 2 })
        decode(d, Buffer.from([0xf0, 0x00]))
        expect(d.failed()).toBe(true)
        const before = { ...d.stats }
        decode(d, ping, pub)
        expect(d.stats).toEqual(before)
    })
})
