// What no well-behaved broker sends, from a raw-socket fake broker (tests/helpers/fake-broker.ts):
// 100 packets in one write, 16 KB+ packets, QoS 1/2 publishes (answered), other topics, a second
// CONNACK, a malformed remaining length, an unknown packet type, a packet cut by a close, a packet
// that stalls, a broker gone silent (keep-alive), and a broker that refuses CONNECT again and
// again (backoff, never a tight loop). One run of the firmware in the VM in real time; each
// attack checks its window (mqtt-attack-kit.ts) and the status counters.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AttackRun, CMD, expectWithstood, figures, PREFIX, SETPOINT_CMD, sleep, waitFor } from "../helpers/mqtt-attack-kit"
import { FakeBroker, gen, publish } from "../helpers/fake-broker"

const a = new AttackRun("mqtt-attacks-raw.json")
const M = { ...(a.scenario.config as any).mqtt }
const fb = new FakeBroker()
const at: Record<string, number> = {}
const link: Record<string, any> = {}
/** CONNECTs before / after each attack. */
const connects: Record<string, number> = {}

const events = (fromMs: number) => fb.published(`${PREFIX}/event`, fromMs).map(m => JSON.parse(m.text))
const lastLink = () => {
    const s = fb.published(`${PREFIX}/status`)
    return s.length ? JSON.parse(s[s.length - 1].text).mqtt : undefined
}
async function linkWhen(what: string, pred: (m: any) => boolean, timeoutS = 15) {
    await waitFor(what, () => !!lastLink() && pred(lastLink()), timeoutS)
    return lastLink()
}
/** Commands answered (accepted or rejected; not the rate limit's own notice) since a time (up to another). */
const handledSince = (fromMs: number, toMs = Infinity) =>
    fb.published(`${PREFIX}/event`, fromMs).filter(m => m.atMs <= toMs).map(m => JSON.parse(m.text)).filter(e => e.event === "command_accepted" || (e.event === "command_rejected" && !String(e.reason).startsWith("rate limit"))).length
const connected = () => fb.connects.filter(c => c.returnCode === 0).length
async function reconnected(n0: number) {
    await waitFor("the firmware reconnected", () => connected() > n0 && !!fb.conn, 15)
    await sleep(500) // its SUBSCRIBE and first status
}

beforeAll(async () => {
    a.status = () => {
        const s = fb.published(`${PREFIX}/status`)
        return s.length ? JSON.parse(s[s.length - 1].text) : undefined
    }
    await fb.listen()
    await a.start(fb.port, async () => {
        await waitFor("the firmware connected", () => connected() > 0 && fb.packets("subscribe").length > 0, 20)
        at.cmd = fb.nowMs()
        fb.write(publish(CMD, SETPOINT_CMD))
        await waitFor("discharging", () => events(at.cmd).some(e => e.event === "state" && e.state === "discharging"), 10)
        await sleep(5000)
        link.before = await linkWhen("status", () => true)

        await a.attack("100 packets in one TCP write", async () => {
            const l0 = lastLink()
            link.hundred0 = l0
            at.hundred = fb.nowMs()
            fb.write(Buffer.concat(Array.from({ length: 100 }, () => publish(CMD, SETPOINT_CMD))))
            link.hundred = await linkWhen("all 100 decoded", m => m.rx_packets >= l0.rx_packets + 100)
            // Every one of the 100 is accounted for: handled (an event), over the rate limit, or
            // dropped because the packets waiting filled mqtt.rxBacklogMaxBytes.
            await linkWhen("all 100 accounted for", m => handledSince(at.hundred) + m.commands_limited - l0.commands_limited + m.rx_dropped - l0.rx_dropped >= 100)
            link.hundred = lastLink()
            at.hundredEnd = fb.nowMs()
        })

        await a.attack("16 KB+ packets", async () => {
            await sleep(2500) // rate limit bucket
            at.big = fb.nowMs()
            fb.write(Buffer.concat([publish(CMD, Buffer.alloc(20_000, 0x20)), publish("site/other/big", Buffer.alloc(17_000, 0x41)), publish(CMD, SETPOINT_CMD)]))
            link.big = await linkWhen("both skipped", m => m.dropped_oversize > link.before.dropped_oversize && m.ignored_topics > link.before.ignored_topics)
            await waitFor("the command after them accepted", () => events(at.big).some(e => e.event === "command_accepted"), 5)
        })

        await a.attack("QoS 1 and 2 publishes", async () => {
            at.qos = fb.nowMs()
            fb.write(Buffer.concat([publish(CMD, SETPOINT_CMD, 1, 77), publish(CMD, SETPOINT_CMD, 2, 78)]))
            await waitFor("PUBACK 77 and PUBREC 78", () => fb.packets("puback", at.qos).some(p => p.messageId === 77) && fb.packets("pubrec", at.qos).some(p => p.messageId === 78), 5)
            fb.write(gen({ cmd: "pubrel", messageId: 78 }))
            await waitFor("PUBCOMP 78", () => fb.packets("pubcomp", at.qos).some(p => p.messageId === 78), 5)
        })

        await a.attack("other topics", async () => {
            link.other0 = lastLink()
            at.other = fb.nowMs()
            fb.write(Buffer.concat([`${PREFIX}/cmdx`, `${PREFIX}/status`, `${PREFIX}/cmd/x`, "#", "charger/other/cmd"].map(t => publish(t, JSON.stringify({ mode: "idle" })))))
            link.other = await linkWhen("ignored", m => m.ignored_topics >= link.other0.ignored_topics + 5)
        })

        await a.attack("second CONNACK", async () => {
            connects.dup0 = fb.connects.length
            fb.write(gen({ cmd: "connack", returnCode: 0, sessionPresent: false }))
            link.dup = await linkWhen("counted", m => m.duplicate_connacks > link.before.duplicate_connacks)
            await sleep(1500)
            connects.dup1 = fb.connects.length
        })

        for (const [name, bytes] of [
            ["malformed remaining length", Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])],
            ["unknown packet type", Buffer.from([0xf0, 0x00])],
        ] as [string, Buffer][]) {
            await a.attack(name, async () => {
                const n0 = connected()
                const l0 = lastLink()
                fb.write(bytes)
                await reconnected(n0)
                link[name] = await linkWhen("the protocol error counted", m => m.protocol_errors > l0.protocol_errors)
            })
        }

        await a.attack("truncated packet, then close", async () => {
            const n0 = connected()
            const p = publish(CMD, JSON.stringify({ mode: "idle" }))
            fb.write(p.subarray(0, p.length - 5))
            await sleep(200)
            fb.drop()
            await reconnected(n0)
        })

        await a.attack("stalled packet", async () => {
            const n0 = connected()
            const l0 = lastLink()
            at.stall = fb.nowMs()
            fb.silenceThisConnection()
            const p = publish(CMD, Buffer.alloc(300, 0x20))
            fb.write(p.subarray(0, 100))
            await waitFor("a new CONNECT", () => connected() > n0, M.keepAliveS * 3)
            at.stallFound = fb.nowMs()
            await reconnected(n0)
            link.stall = await linkWhen("the keep-alive timeout counted", m => m.keepalive_timeouts > l0.keepalive_timeouts)
        })

        await a.attack("silent broker (no PINGRESP)", async () => {
            const n0 = connected()
            const l0 = lastLink()
            at.silent = fb.nowMs()
            fb.silenceThisConnection()
            await waitFor("a new CONNECT", () => connected() > n0, M.keepAliveS * 3)
            at.silentFound = fb.nowMs()
            await reconnected(n0)
            link.silent = await linkWhen("the keep-alive timeout counted", m => m.keepalive_timeouts > l0.keepalive_timeouts)
        })

        await a.attack("refused CONNECT over and over", async () => {
            at.refuse = fb.nowMs()
            const n0 = connected()
            fb.connackCode = 4
            fb.drop()
            await sleep(8000)
            at.refuseEnd = fb.nowMs()
            fb.connackCode = 0
            await reconnected(n0)
            link.refused = await linkWhen("refusals counted", m => m.refused > link.before.refused)
        })
    })
}, 240_000)

afterAll(async () => {
    await fb.close()
    if (process.env.MQTT_ATTACK_FIGURES && a.run) console.log("fake broker:\n  " + figures(a).join("\n  "))
})

describe("attacks no well-behaved broker makes (raw-socket fake broker)", () => {
    it("100 packets in one TCP write: all decoded, the excess over the rate limit counted", () => {
        expectWithstood(a, "100 packets in one TCP write")
        const limited = link.hundred.commands_limited - link.hundred0.commands_limited
        const dropped = link.hundred.rx_dropped - link.hundred0.rx_dropped
        expect(limited).toBeGreaterThanOrEqual(50)
        // The burst the rate limit lets through (hems.commandBurst) is more than 1 KB of packets may
        // hold: the rest is dropped and counted, never queued without bound.
        expect(dropped).toBeGreaterThan(0)
        const handled = handledSince(at.hundred, at.hundredEnd)
        expect(handled + limited + dropped, `handled ${handled} + limited ${limited} + dropped ${dropped}`).toBe(100)
        expect(link.hundred.rx_backlog_peak_b).toBeLessThanOrEqual(1024)
        expect(link.hundred.connects).toBe(link.before.connects)
    })

    it("16 KB+ packets are framed right: skipped (ours oversize, the other topic), the command after them followed", () => {
        expectWithstood(a, "16 KB+ packets")
        expect(link.big.dropped_max_bytes).toBe(20_000)
        expect(events(at.big).some(e => e.event === "command_rejected" && e.size_bytes === 20_000)).toBe(true)
        expect(link.big.connects).toBe(link.before.connects)
    })

    it("QoS 1 is answered with PUBACK, QoS 2 with PUBREC then PUBCOMP; both commands followed", () => {
        expectWithstood(a, "QoS 1 and 2 publishes")
        expect(events(at.qos).filter(e => e.event === "command_accepted").length).toBeGreaterThanOrEqual(2)
    })

    it("publishes on topics we did not subscribe are ignored and counted", () => {
        expectWithstood(a, "other topics")
        expect(events(at.other).filter(e => /^command_/.test(e.event))).toEqual([])
    })

    it("a second CONNACK is ignored and counted; the connection stays", () => {
        expectWithstood(a, "second CONNACK")
        expect(connects.dup1).toBe(connects.dup0)
    })

    it("malformed remaining length and an unknown packet type: protocol error, closed, reconnected", () => {
        for (const name of ["malformed remaining length", "unknown packet type"]) {
            expectWithstood(a, name)
            expect(link[name].protocol_errors).toBeGreaterThan(0)
        }
        expect(a.vmLog.some(l => /remaining length longer than 4 bytes/.test(l))).toBe(true)
    })

    it("a packet cut by the connection's end is not applied; the firmware reconnects", () => {
        expectWithstood(a, "truncated packet, then close")
    })

    it(`a stalled packet and a silent broker are found by the keep-alive (${M.keepAliveS} s) and retried`, () => {
        expectWithstood(a, "stalled packet")
        expectWithstood(a, "silent broker (no PINGRESP)")
        // Found within a ping interval (2/3 keep-alive) plus the keep-alive, plus the loop and reconnect.
        const boundMs = (M.keepAliveS * 1000 * 5) / 3 + 1500
        expect(at.stallFound - at.stall).toBeLessThan(boundMs)
        expect(at.silentFound - at.silent).toBeLessThan(boundMs)
        expect(link.silent.keepalive_timeouts).toBeGreaterThanOrEqual(2)
    })

    it("refused CONNECT over and over: retried with a growing backoff, never in a tight loop", () => {
        expectWithstood(a, "refused CONNECT over and over")
        const tries = fb.connects.filter(c => c.atMs >= at.refuse && c.atMs <= at.refuseEnd)
        expect(tries.every(c => c.returnCode === 4)).toBe(true)
        expect(tries.length).toBeGreaterThanOrEqual(3)
        // 8 s with backoff 300 ms doubling to 2 s (jitter -20 %): at most about 7 attempts.
        expect(tries.length).toBeLessThanOrEqual(8)
        const gaps = tries.slice(1).map((c, i) => c.atMs - tries[i].atMs)
        expect(Math.min(...gaps)).toBeGreaterThan(M.backoffMinMs * (1 - M.backoffJitterPct / 100) - 50)
        expect(gaps[gaps.length - 1]).toBeGreaterThan(gaps[0])
    })
})
