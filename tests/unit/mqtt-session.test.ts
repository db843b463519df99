// The HEMS link's protocol decisions (src/core/hems/mqtt-session.ts) and its command rate limit
// (src/core/hems/rate-limit.ts): keep-alive, CONNACK refusals, duplicate CONNACK, QoS 1/2 answers.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { PT_PUBACK, PT_PUBCOMP, PT_PUBREC } from "../../src/core/hems/mqtt-codec"
import { MqttSession } from "../../src/core/hems/mqtt-session"
import { RateLimit } from "../../src/core/hems/rate-limit"
import { linkDoc, oversizeDoc } from "../../src/core/hems/link-messages"
import { MqttDecoder } from "../../src/core/hems/mqtt-decoder"

const RUNS = Number(process.env.FC_RUNS ?? 1000)
const cfg = { keepAliveS: 6, connectTimeoutMs: 3000 }

function upSession(atMs = 0) {
    const s = new MqttSession(cfg)
    s.opened(atMs)
    expect(s.handle({ kind: "connack", code: 0, sessionPresent: false }, atMs).op).toBe("up")
    return s
}

describe("MQTT session", () => {
    it("no CONNACK within connectTimeoutMs closes", () => {
        const s = new MqttSession(cfg)
        s.opened(1000)
        expect(s.tick(4000)).toBe("")
        expect(s.tick(4001)).toMatch(/no CONNACK within 3000 ms/)
    })

    it("pings at once after CONNACK, then every 2/3 keep-alive after each PINGRESP; no PINGRESP within the keep-alive is a dead link", () => {
        const s = upSession(0)
        expect(s.tick(0)).toBe("ping")
        s.pinged(0)
        expect(s.tick(100)).toBe("")
        s.handle({ kind: "pingresp" }, 100)
        expect(s.proven).toBe(true)
        expect(s.tick(3999)).toBe("")
        expect(s.tick(4000)).toBe("ping")
        s.pinged(4000)
        expect(s.tick(10000)).toBe("")
        expect(s.tick(10001)).toMatch(/no PINGRESP within the keep-alive \(6 s\): dead link/)
        expect(s.counters.keepAliveTimeouts).toBe(1)
    })

    it("a refused CONNACK closes and is counted; a second CONNACK is ignored and counted", () => {
        const s = new MqttSession(cfg)
        s.opened(0)
        const a = s.handle({ kind: "connack", code: 4 }, 0)
        expect(a).toMatchObject({ op: "close", reason: "broker refused the connection: bad user name or password" })
        expect(s.counters.refused).toBe(1)
        const u = upSession()
        expect(u.handle({ kind: "connack", code: 0 }, 5).op).toBe("")
        expect(u.handle({ kind: "connack", code: 5 }, 5).op).toBe("")
        expect(u.counters.duplicateConnacks).toBe(2)
        expect(u.isUp()).toBe(true)
    })

    it("anything before CONNACK is a protocol error; decoder errors close", () => {
        const s = new MqttSession(cfg)
        s.opened(0)
        expect(s.handle({ kind: "publish", topic: "t", payload: Buffer.from("x"), qos: 0 }, 0)).toMatchObject({ op: "close", reason: "protocol error: publish before CONNACK" })
        const u = upSession()
        expect(u.handle({ kind: "error", reason: "protocol error: x" }, 0)).toMatchObject({ op: "close", reason: "protocol error: x" })
        expect(u.counters.protocolErrors).toBe(1)
    })

    it("QoS 1 is answered with PUBACK, QoS 2 with PUBREC and its PUBREL with PUBCOMP; also for skipped messages", () => {
        const s = upSession()
        expect(s.handle({ kind: "publish", topic: "t", payload: Buffer.from("1"), qos: 1, packetId: 9 }, 0)).toMatchObject({ op: "message", ackType: PT_PUBACK, ackId: 9 })
        expect(s.handle({ kind: "publish", topic: "t", payload: Buffer.from("2"), qos: 2, packetId: 10 }, 0)).toMatchObject({ op: "message", ackType: PT_PUBREC, ackId: 10 })
        expect(s.handle({ kind: "pubrel", packetId: 10 }, 0)).toMatchObject({ op: "", ackType: PT_PUBCOMP, ackId: 10 })
        expect(s.handle({ kind: "dropped", topic: "t", sizeBytes: 9000, qos: 1, packetId: 11 }, 0)).toMatchObject({ op: "dropped", sizeBytes: 9000, ackType: PT_PUBACK, ackId: 11 })
        expect(s.handle({ kind: "ignored", sizeBytes: 5, qos: 2, packetId: 12 }, 0)).toMatchObject({ op: "", ackType: PT_PUBREC, ackId: 12 })
        expect(s.handle({ kind: "publish", topic: "t", payload: Buffer.from("0"), qos: 0, packetId: 0 }, 0).ackType).toBeUndefined()
        expect(s.counters.qosAnswered).toBe(5)
    })
})

describe("command rate limit", () => {
    it("lets a burst through, then perS sustained; the excess is counted", () => {
        const r = new RateLimit(10, 20)
        let passed = 0
        for (let i = 0; i < 100; i++) if (r.take(0)) passed++
        expect(passed).toBe(20)
        expect(r.refused).toBe(80)
        expect(r.limiting).toBe(true)
        // 1,000 per second for 10 s: about 10/s get through.
        passed = 0
        for (let t = 1; t <= 10_000; t++) if (r.take(t)) passed++
        expect(passed).toBeGreaterThanOrEqual(99)
        expect(passed).toBeLessThanOrEqual(101)
    })

    it("never admits more than burst + perS x elapsed, whatever the arrival times", () => {
        fc.assert(
            fc.property(fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 30 }), (gaps, perS, burst) => {
                const r = new RateLimit(perS, burst)
                let t = 0
                let passed = 0
                for (const g of gaps) {
                    t += g
                    if (r.take(t)) passed++
                }
                expect(passed).toBeLessThanOrEqual(burst + (perS * t) / 1000 + 1e-9)
                expect(passed + r.refused).toBe(gaps.length)
            }),
            { numRuns: RUNS },
        )
    })
})

describe("link documents", () => {
    it("oversize: command_rejected on the command topic, message_dropped elsewhere, both naming the size", () => {
        expect(oversizeDoc("p/cmd", true, 5000, 512, 1500)).toEqual({ event: "command_rejected", at_s: 1.5, reason: "payload too long: 5000 bytes (limit 512); skipped unread", size_bytes: 5000 })
        expect(oversizeDoc("homeassistant/status", false, 70000, 512, 0)).toMatchObject({ event: "message_dropped", topic: "homeassistant/status", size_bytes: 70000 })
    })

    it("status counters come from the session, the decoder and the limiter", () => {
        const d = new MqttDecoder(["a"], 10)
        const doc = linkDoc({ session: new MqttSession(cfg).counters, decoder: d.stats, commandsLimited: 3, rxBacklogPeakBytes: 99, rxDropped: 1 })
        expect(doc).toMatchObject({ connects: 0, dropped_oversize: 0, commands_limited: 3, rx_backlog_peak_b: 99, rx_dropped: 1 })
    })
})

describe("MQTT session: when the reconnect backoff restarts", () => {
    it("once after a session that proved itself; not again for attempts that fail before a new session opens", () => {
        const s = upSession(0)
        s.pinged(0)
        s.handle({ kind: "pingresp" }, 50)
        // The link drops: the backoff restarts.
        expect(s.ended()).toBe(true)
        // The broker is gone: each connect fails before opened(); the backoff must keep growing.
        expect(s.ended()).toBe(false)
        expect(s.ended()).toBe(false)
    })

    it("never for a session that did not prove itself (refused, or no PINGRESP), nor before the first connection", () => {
        const fresh = new MqttSession(cfg)
        expect(fresh.ended()).toBe(false)
        const refused = new MqttSession(cfg)
        refused.opened(0)
        refused.handle({ kind: "connack", code: 5 }, 0)
        expect(refused.ended()).toBe(false)
        const silent = upSession(0)
        silent.pinged(0)
        expect(silent.tick(6001)).toMatch(/dead link/)
        expect(silent.ended()).toBe(false)
    })
})

describe("MQTT session: keep-alive and counters at the edges", () => {
    it("a healthy link that answers every ping at once is never closed (a minute of ticks)", () => {
        const s = upSession(0)
        let pings = 0
        for (let t = 0; t <= 60_000; t += 100) {
            const r = s.tick(t)
            if (r === "ping") {
                s.pinged(t)
                pings++
                expect(s.handle({ kind: "pingresp" }, t + 20).op).toBe("")
            } else expect(r).toBe("")
        }
        // At once, then every 4 s (2/3 of 6 s).
        expect(pings).toBe(16)
        expect(s.counters.keepAliveTimeouts).toBe(0)
    })

    it("a first ping at clock 0 left unanswered: no second ping while it waits, a dead link after the keep-alive", () => {
        const s = upSession(0)
        expect(s.tick(0)).toBe("ping")
        s.pinged(0)
        expect(s.tick(4000)).toBe("")
        expect(s.tick(6000)).toBe("")
        expect(s.tick(6001)).toMatch(/dead link/)
    })

    it("another PINGREQ written while one is unanswered does not push the deadline back", () => {
        for (const first of [0, 500]) {
            const s = upSession(0)
            s.pinged(first)
            s.pinged(first + 3000)
            expect(s.tick(first + 6000)).toBe("")
            expect(s.tick(first + 6001)).toMatch(/dead link/)
        }
    })

    it("a reconnect starts over: not proven, not up, no ping outstanding from before", () => {
        const s = upSession(0)
        s.pinged(0)
        s.handle({ kind: "pingresp" }, 10)
        expect(s.ended()).toBe(true)
        s.opened(20_000)
        expect(s.isUp()).toBe(false)
        expect(s.handle({ kind: "connack", code: 0 }, 20_000).op).toBe("up")
        s.pinged(20_000)
        // Refused the next time round: this session never proved itself.
        s.opened(30_000)
        expect(s.handle({ kind: "connack", code: 5 }, 30_000).op).toBe("close")
        expect(s.ended()).toBe(false)
    })

    it("counts accepted connections, packets before CONNACK, and refused subscriptions (0x80 only)", () => {
        const s = new MqttSession(cfg)
        s.opened(0)
        expect(s.handle({ kind: "pingresp" }, 0)).toEqual({ op: "close", reason: "protocol error: pingresp before CONNACK" })
        s.opened(100)
        s.handle({ kind: "connack", code: 0 }, 100)
        expect(s.handle({ kind: "suback", packetId: 1, codes: [0, 0x80, 1, 2, 0x80] }, 100)).toEqual({ op: "" })
        s.opened(200)
        s.handle({ kind: "connack", code: 0 }, 200)
        expect(s.handle({ kind: "suback", packetId: 1, codes: [0] }, 200)).toEqual({ op: "" })
        expect(s.counters).toMatchObject({ connects: 2, protocolErrors: 1, subscribeRefused: 2 })
    })

    it("acks of our own packets and UNSUBACK after CONNACK change nothing and answer nothing", () => {
        const s = upSession()
        for (const kind of ["puback", "pubrec", "pubcomp", "unsuback"] as const) expect(s.handle({ kind, packetId: 4 }, 0)).toEqual({ op: "" })
        expect(s.counters.qosAnswered).toBe(0)
        expect(s.isUp()).toBe(true)
    })
})
