// The gateway's MQTT side (gateway/echonet/mqtt-side.ts) against a real broker (aedes on a free
// loopback port) and a stand-in for the firmware that answers commands the way src/hems-mqtt.ts
// does (the real validator, the id echoed). Covers: the view from the retained status and online
// flag, the last will, the broker going away and coming back (reconnect with backoff), and a
// command's verdict matched by its id.
import { createServer, type Server } from "node:net"
import { Aedes } from "aedes"
import mqtt, { type MqttClient } from "mqtt"
import { afterEach, describe, expect, it } from "vitest"
import { ChargerLink } from "../../gateway/echonet/mqtt-side"
import { DEVS } from "../../src/config/devs.gen"
import { Controller } from "../../src/core/controller"
import { commandEventDoc } from "../../src/core/hems/messages"
import { chargerStatus } from "./echonet-fixtures"

const PREFIX = "charger/test"
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
let broker: Aedes
let server: Server
let port = 0
const cleanups: (() => Promise<void> | void)[] = []

async function startBroker(onPort = 0) {
    broker = await Aedes.createBroker()
    server = createServer(broker.handle)
    await new Promise<void>(r => server.listen(onPort, "127.0.0.1", () => r()))
    port = (server.address() as any).port
}
async function stopBroker() {
    for (const c of Object.values((broker as any).clients)) (c as any).conn.destroy()
    await new Promise(r => server.close(r))
    await new Promise<void>(r => broker.close(() => r()))
}

/** The firmware's side of the topic tree: retained status + online (will), commands validated and answered with the id. */
async function fakeFirmware(): Promise<{ client: MqttClient; controller: Controller; commands: string[] }> {
    const controller = new Controller(DEVS)
    const commands: string[] = []
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, will: { topic: `${PREFIX}/status/online`, payload: Buffer.from("false"), retain: true, qos: 0 } })
    await new Promise<void>(r => client.once("connect", () => r()))
    await client.subscribeAsync(`${PREFIX}/cmd`)
    client.on("message", (_t, payload) => {
        commands.push(payload.toString())
        const r = controller.handle(payload.toString(), 1000)
        client.publish(`${PREFIX}/status`, JSON.stringify({ ...chargerStatus(), ...pick(controller.statusJson(1000)) }), { retain: true })
        client.publish(`${PREFIX}/event`, JSON.stringify(commandEventDoc(r.error, 1000, r.id)))
    })
    await client.publishAsync(`${PREFIX}/status`, JSON.stringify(chargerStatus()), { retain: true })
    await client.publishAsync(`${PREFIX}/status/online`, "true", { retain: true })
    return { client, controller, commands }
}
const pick = (s: any) => ({ mode: s.mode, setpoint_w: s.setpoint_w })

function link() {
    const logs: string[] = []
    const l = new ChargerLink({
        broker: { mqttHost: "127.0.0.1", mqttPort: port, mqttTls: false },
        prefix: PREFIX,
        backoff: { backoffMinMs: 100, backoffMaxMs: 400, backoffJitterPct: 0 },
        commandTimeoutMs: 1500,
        connectTimeoutMs: 1000,
        log: x => logs.push(x),
    })
    cleanups.push(() => l.stop())
    return { l, logs }
}

async function until(what: string, pred: () => boolean, ms = 5000) {
    const end = Date.now() + ms
    while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
        await sleep(20)
    }
}

afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
    if (server?.listening) await stopBroker()
})

describe("the gateway's MQTT side", () => {
    it("online from the retained status and flag; offline on the last will", async () => {
        await startBroker()
        const fw = await fakeFirmware()
        const { l } = link()
        l.start()
        await until("online", () => l.view().online)
        expect(l.view().status.soc_pct).toBe(65)
        fw.client.stream.destroy() // a power loss: no DISCONNECT, the broker publishes the will
        await until("offline", () => !l.view().online)
        expect(l.view().status).not.toBeNull() // the last status is kept, but not used as the truth
    })

    it("a command carries an id and resolves with the firmware's verdict: accepted, or rejected with why", async () => {
        await startBroker()
        const fw = await fakeFirmware()
        const { l } = link()
        l.start()
        await until("online", () => l.view().online)
        expect(await l.command({ mode: "setpoint", setpoint_w: 3000 })).toEqual({ ok: true, why: "" })
        expect(await l.command({ mode: "setpoint", setpoint_w: 60000 })).toEqual({ ok: false, why: expect.stringMatching(/setpoint_w = 60000: out of range/) })
        expect(fw.commands.map(c => JSON.parse(c).id)).toEqual([expect.stringMatching(/^el-/), expect.stringMatching(/^el-/)])
        expect(new Set(fw.commands.map(c => JSON.parse(c).id)).size).toBe(2)
        expect(fw.controller.v2h.status.setpointW).toBe(3000) // the refused one changed nothing
        fw.client.end(true)
    })

    it("no verdict in time: refused (timeout); not connected: refused at once", async () => {
        await startBroker()
        const { l } = link()
        expect(await l.command({ mode: "idle" })).toEqual({ ok: false, why: "not connected to the broker" })
        l.start()
        await until("connected", () => l.isConnected())
        const t0 = Date.now()
        expect(await l.command({ mode: "idle" })).toEqual({ ok: false, why: "no verdict from the charger within 1500 ms" })
        expect(Date.now() - t0).toBeGreaterThanOrEqual(1400)
    })

    it("the broker goes away: offline at once; it comes back: reconnects with backoff and is online again", async () => {
        await startBroker()
        let fw = await fakeFirmware()
        const { l, logs } = link()
        l.start()
        await until("online", () => l.view().online)
        const oldPort = port
        fw.client.end(true)
        await stopBroker()
        await until("offline", () => !l.view().online && !l.isConnected())
        await sleep(700) // several failed attempts
        await startBroker(oldPort)
        fw = await fakeFirmware()
        await until("online again", () => l.view().online, 8000)
        expect(logs.filter(x => /next attempt in \d+ ms/.test(x)).length).toBeGreaterThanOrEqual(2)
        const delays = logs.map(x => /next attempt in (\d+) ms/.exec(x)).filter(Boolean).map(m => Number(m![1]))
        expect(delays[0]).toBe(100)
        expect(Math.max(...delays)).toBeLessThanOrEqual(400)
        fw.client.end(true)
    })
})
