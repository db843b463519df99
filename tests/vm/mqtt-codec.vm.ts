// The MQTT framer/parser of the HEMS link inside the DeviceScript VM (Buffer indexing, byte
// arithmetic, one packet split over many chunks, a 20 KB message skipped, protocol errors): a
// subset or runtime difference from Node shows up here. tests/unit/mqtt-codec.test.ts has the
// property tests; these are the same ideas, fewer and fixed.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { encodeConnect, encodePingreq, encodePublish, encodeSubscribe, remainingLengthBytes } from "../../src/core/hems/mqtt-codec"
import { MqttDecoder, MqttIn } from "../../src/core/hems/mqtt-decoder"
import { MqttSession } from "../../src/core/hems/mqtt-session"
import { RateLimit } from "../../src/core/hems/rate-limit"

const CMD = "charger/x/cmd"

/** Like the shell: yields every few packets (a long run without yielding panics the VM). */
async function feed(d: MqttDecoder, stream: Buffer, chunk: number): Promise<MqttIn[]> {
    const out: MqttIn[] = []
    for (let pos = 0; pos < stream.length; pos += chunk) {
        d.push(stream.slice(pos, Math.min(stream.length, pos + chunk)))
        for (;;) {
            const p = d.next()
            if (!p) break
            out.push(p)
            if (out.length % 4 === 0) await ds.sleep(0)
        }
    }
    return out
}

/** A PUBLISH as a broker sends it (our encoder makes the same bytes for QoS 0). */
function pub(topic: string, size: number): Buffer {
    const body = Buffer.alloc(size)
    body.fillAt(0, size, 0x20)
    return encodePublish(topic, body, false)
}

describe("mqtt codec in the VM", () => {
    test("CONNECT bytes: protocol name, level 4, flags, keep-alive, fields", () => {
        const c = encodeConnect({ clientId: "devs_1", keepAliveS: 300, user: "u", password: "pw", will: { topic: "t/online", payload: "false", retain: true } })
        expect(c[0]).toBe(0x10)
        expect(c[1]).toBe(c.length - 2)
        expect(c.slice(2, 8).toString()).toBe("\u0000\u0004MQTT")
        expect(c[8]).toBe(4)
        expect(c[9]).toBe(0x80 | 0x40 | 0x20 | 0x04 | 0x02)
        expect(c[10] * 256 + c[11]).toBe(300)
        expect(encodePingreq().toString("hex")).toBe("c000")
        const s = encodeSubscribe(1, [CMD])
        expect(s[0]).toBe(0x82)
        expect(s[s.length - 1]).toBe(0)
    })

    test("remaining length of 16 KB+ packets takes 3 bytes and decodes back", async () => {
        expect(remainingLengthBytes(16384)).toBe(3)
        const p = pub(CMD, 20000)
        expect(p[1]).toBe(0x80 | ((20000 + 2 + CMD.length) & 127))
        const d = new MqttDecoder([CMD], 512)
        const got = await feed(d, p, 700)
        expect(got.length).toBe(1)
        expect(got[0].kind).toBe("dropped")
        expect(got[0].sizeBytes).toBe(20000)
        expect(d.stats.dropped).toBe(1)
    })

    test("100 messages in one chunk, and one message byte by byte", async () => {
        let all = Buffer.alloc(0)
        const one = encodePublish(CMD, "{\"mode\":\"idle\"}", false)
        const parts: Buffer[] = []
        for (let i = 0; i < 100; i++) parts.push(one)
        all = Buffer.concat(...parts)
        const d = new MqttDecoder([CMD, "other/t"], 512)
        const got = await feed(d, all, all.length)
        expect(got.length).toBe(100)
        expect(got[99].payload.toString()).toBe("{\"mode\":\"idle\"}")
        const bytewise = await feed(d, one, 1)
        expect(bytewise.length).toBe(1)
        expect(bytewise[0].topic).toBe(CMD)
    })

    test("topics not subscribed are skipped and counted; protocol errors are named", async () => {
        const d = new MqttDecoder([CMD], 512)
        const got = await feed(d, pub("charger/y/cmd", 30), 7)
        expect(got[0].kind).toBe("ignored")
        expect(d.stats.ignored).toBe(1)
        const bad = new MqttDecoder([CMD], 512)
        const e = await feed(bad, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 1)
        expect(e.length).toBe(1)
        expect(e[0].reason).toBe("protocol error: remaining length longer than 4 bytes")
        const t = await feed(new MqttDecoder([CMD], 512), Buffer.from([0xf0, 0x00]), 2)
        expect(t[0].reason).toBe("protocol error: reserved packet type 15")
    })

    test("session: keep-alive, refused CONNACK; rate limit", () => {
        const s = new MqttSession({ keepAliveS: 3, connectTimeoutMs: 1000 })
        s.opened(0)
        expect(s.handle({ kind: "connack", code: 5 }, 0).op).toBe("close")
        s.opened(10)
        expect(s.handle({ kind: "connack", code: 0 }, 10).op).toBe("up")
        expect(s.tick(10)).toBe("ping")
        s.pinged(10)
        expect(s.tick(3011).length > 0).toBe(true)
        const r = new RateLimit(10, 2)
        expect(r.take(0)).toBe(true)
        expect(r.take(0)).toBe(true)
        expect(r.take(0)).toBe(false)
        expect(r.take(100)).toBe(true)
        expect(r.refused).toBe(1)
    })
})
