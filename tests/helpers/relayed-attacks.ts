// The attacks a real broker relays to the charger from anyone allowed to publish on its topics,
// as one vitest suite run against any broker (aedes: tests/sim/mqtt-attacks.test.ts; the
// system's mosquitto: tests/mosquitto/mqtt-attacks.mosquitto.test.ts). The HEMS is mqtt.js.
//   1 MB on <prefix>/cmd; 100 commands in one burst; 1,000 valid commands/s for 10 s;
//   commands published with QoS 1 and 2; messages on topics next to ours.
// Each attack: the 3 kW setpoint in force before is still followed, no restart, heap and VM pass
// time within bounds (mqtt-attack-kit.ts), and the status counters moved.
import mqtt, { type MqttClient } from "mqtt"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { AttackRun, CMD, expectWithstood, figures, PREFIX, SETPOINT_CMD, sleep, waitFor, type Published } from "./mqtt-attack-kit"

export interface BrokerUnderTest {
    port: number
    stop(): Promise<void>
}

const MB = 1 << 20
const FLOOD_S = 10
const FLOOD_PER_S = 1000

export function relayedAttackSuite(brokerName: string, startBroker: () => Promise<BrokerUnderTest>) {
    const a = new AttackRun("mqtt-attacks-relayed.json")
    const H = { ...DEVS.hems, ...((a.scenario.config as any).hems ?? {}) }
    let broker: BrokerUnderTest
    let hems: MqttClient
    const got: Published[] = []
    const at: Record<string, number> = {}
    /** status.mqtt at named moments. */
    const link: Record<string, any> = {}

    const events = (fromS: number, toS = Infinity) =>
        got.filter(m => m.topic === `${PREFIX}/event` && m.wallS >= fromS && m.wallS <= toS).map(m => JSON.parse(m.text))
    // The link counters and loop health are in the retained status and in every telemetry document:
    // the newest of either. (aedes 1.2.0 did not forward the retained status to this already
    // connected subscriber in every run; mosquitto did. Telemetry is not retained.)
    const lastStatus = () => {
        const s = [...got].reverse().find(m => m.topic === `${PREFIX}/status` || m.topic === `${PREFIX}/telemetry`)
        return s ? JSON.parse(s.text) : undefined
    }
    /** Waits until the status shows the link counters satisfying pred, and returns them. */
    async function linkWhen(what: string, pred: (m: any) => boolean, timeoutS = 20) {
        await waitFor(what, () => !!lastStatus()?.mqtt && pred(lastStatus().mqtt), timeoutS)
        return lastStatus().mqtt
    }
    const send = (payload: string | Buffer, qos: 0 | 1 | 2 = 0, topic = CMD) => hems.publish(topic, payload, { qos })

    beforeAll(async () => {
        a.status = lastStatus
        broker = await startBroker()
        hems = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { reconnectPeriod: 500, clientId: "hems-attacker" })
        hems.on("message", (topic, payload) => got.push({ wallS: a.nowS(), topic, text: payload.length < 4096 ? payload.toString() : "" }))
        await new Promise(r => hems.once("connect", r))
        await hems.subscribeAsync(`${PREFIX}/#`)
        await a.start(broker.port, async () => {
            await waitFor("first telemetry", () => got.some(m => m.topic === `${PREFIX}/telemetry`), 20)
            at.command = a.nowS()
            send(SETPOINT_CMD)
            await waitFor("discharging at 3 kW", () => events(at.command).some(e => e.event === "state" && e.state === "discharging"), 10)
            await sleep(5000) // the inverter ramps to the setpoint
            link.before = await linkWhen("link counters", () => true)

            await a.attack("1 MB message", async () => {
                send(Buffer.alloc(MB, 0x20))
                link.mb = await linkWhen("the 1 MB message skipped", m => m.dropped_oversize > link.before.dropped_oversize, 30)
                at.afterMb = a.nowS()
                send(SETPOINT_CMD)
                await waitFor("a command accepted after 1 MB", () => events(at.afterMb).some(e => e.event === "command_accepted"), 10)
            })

            await a.attack("100 messages in one burst", async () => {
                await sleep(3000) // the rate limiter's bucket refills
                const l0 = lastStatus().mqtt
                at.burst = a.nowS()
                for (let i = 0; i < 100; i++) send(SETPOINT_CMD)
                link.burst = await linkWhen("the burst decoded", m => m.rx_packets >= l0.rx_packets + 100)
                link.burst0 = l0
            })

            await a.attack(`${FLOOD_PER_S} commands/s for ${FLOOD_S} s`, async () => {
                const l0 = lastStatus().mqtt
                link.flood0 = l0
                at.flood = a.nowS()
                for (let t = 0; t < FLOOD_S * 10; t++) {
                    for (let i = 0; i < FLOOD_PER_S / 10; i++) send(SETPOINT_CMD)
                    await sleep(100)
                }
                at.floodEnd = a.nowS()
                link.flood = await linkWhen("the flood counted", m => m.commands_limited >= l0.commands_limited + FLOOD_S * FLOOD_PER_S * 0.9, 30)
            }, 2)

            await a.attack("QoS 1 and 2 commands", async () => {
                await sleep(3000)
                at.qos = a.nowS()
                send(SETPOINT_CMD, 1)
                send(SETPOINT_CMD, 2)
                await waitFor("both accepted", () => events(at.qos).filter(e => e.event === "command_accepted").length >= 2, 10)
            })

            await a.attack("other topics", async () => {
                link.other0 = lastStatus().mqtt
                at.other = a.nowS()
                for (const t of [`${PREFIX}/cmdx`, `${PREFIX}/cmd/x`, `${PREFIX}/status/cmd`, "charger/other/cmd", `${PREFIX}`])
                    send(JSON.stringify({ mode: "idle" }), 0, t)
                await sleep(2000)
                at.otherEnd = a.nowS()
            })
        })
    }, 240_000)

    afterAll(async () => {
        hems?.end(true)
        await broker?.stop()
        if (process.env.MQTT_ATTACK_FIGURES && a.run) console.log(`${brokerName}:\n  ` + figures(a).join("\n  "))
    })

    describe(`attacks relayed by ${brokerName}`, () => {
        it("1 MB on the command topic: skipped while it streamed in, reported once naming its size; commands still work", () => {
            expectWithstood(a, "1 MB message")
            expect(link.mb.dropped_max_bytes).toBe(MB)
            expect(link.mb.rx_dropped).toBe(0) // skipped as it streamed in: nothing of it waited
            const rejected = events(a.window("1 MB message").fromS).filter(e => e.event === "command_rejected" && e.size_bytes === MB)
            expect(rejected.length).toBe(1)
            expect(rejected[0].reason).toMatch(/^payload too long: 1048576 bytes \(limit 512\)/)
            expect(link.mb.connects).toBe(link.before.connects) // the same connection throughout
        })

        it("100 commands in one burst: every one decoded, the excess over the rate limit counted", () => {
            expectWithstood(a, "100 messages in one burst")
            expect(link.burst.rx_packets - link.burst0.rx_packets).toBeGreaterThanOrEqual(100)
            const limited = link.burst.commands_limited - link.burst0.commands_limited
            expect(limited).toBeGreaterThanOrEqual(100 - H.commandBurst - 2)
            expect(link.burst.connects).toBe(link.before.connects)
        })

        it(`${FLOOD_PER_S} valid commands/s for ${FLOOD_S} s: at most the rate limit applied, the rest counted, nothing else changes`, () => {
            expectWithstood(a, `${FLOOD_PER_S} commands/s for ${FLOOD_S} s`)
            const w = a.window(`${FLOOD_PER_S} commands/s for ${FLOOD_S} s`)
            const accepted = events(at.flood, w.toS).filter(e => e.event === "command_accepted").length
            const limited = link.flood.commands_limited - link.flood0.commands_limited
            const durS = at.floodEnd - at.flood + 2
            expect(accepted + limited).toBeGreaterThanOrEqual(FLOOD_S * FLOOD_PER_S * 0.9)
            // Events beyond mqtt.eventQueueMax are dropped (counted): accepted is a lower bound of what passed.
            expect(accepted).toBeLessThanOrEqual(H.commandBurst + H.commandsPerS * durS + 1)
            // One rate-limit report per episode, not one per refused command.
            const reports = events(at.flood, w.toS).filter(e => e.event === "command_rejected" && /^rate limit/.test(e.reason))
            expect(reports.length).toBeGreaterThanOrEqual(1)
            expect(reports.length).toBeLessThan(accepted + 2)
            expect(link.flood.connects).toBe(link.before.connects)
        })

        it("QoS 1 and QoS 2 commands are followed (the broker downgrades them to our QoS 0 subscription)", () => {
            expectWithstood(a, "QoS 1 and 2 commands")
            expect(events(at.qos).filter(e => e.event === "command_accepted").length).toBeGreaterThanOrEqual(2)
        })

        it("messages on other topics never reach the command path", () => {
            expectWithstood(a, "other topics")
            const evs = events(at.other, at.otherEnd).filter(e => /^command_/.test(e.event))
            expect(evs).toEqual([])
            expect(a.run.rows.filter(r => Number(r.t_s) > at.other && Number(r.t_s) < at.otherEnd).every(r => r.v2h_mode === "setpoint")).toBe(true)
        })
    })
}
