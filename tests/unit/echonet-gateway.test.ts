// The whole gateway (gateway/echonet/gateway.ts) on loopback: its UDP node on a free port (the
// "multicast" target redirected to a loopback listener), a real broker (aedes), and a stand-in
// firmware that validates commands with the real Controller and echoes their id. Checks the
// start-up announcement, a SetC through to the firmware, the INF on the change, and the refresh
// rule: the last command is repeated while a controller is heard and the charger still follows
// it, and no longer once the controller went quiet or someone else changed the mode.
import { createSocket, type Socket } from "node:dgram"
import { createServer, type Server } from "node:net"
import { Aedes } from "aedes"
import mqtt, { type MqttClient } from "mqtt"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { decodeFrame, encodeFrame, ESV, type Frame } from "../../gateway/echonet/frame"
import { Gateway } from "../../gateway/echonet/gateway"
import { CHARGER_EOJ } from "../../gateway/echonet/properties"
import { DEVS } from "../../src/config/devs.gen"
import { Controller } from "../../src/core/controller"
import { commandEventDoc } from "../../src/core/hems/messages"
import { chargerStatus } from "./echonet-fixtures"

const PREFIX = "charger/gw-test"
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
let broker: Aedes
let server: Server
let fw: MqttClient
const controller = new Controller(DEVS)
const commands: { at: number; cmd: any }[] = []
let gw: Gateway
let gwPort = 0
let hems: Socket
let group: Socket
const groupFrames: Frame[] = []
const replies: Frame[] = []
let tid = 100

/** The mode and setpoint the stand-in firmware follows (the real one shows them after its next tick). */
let current: any = { mode: "idle", setpoint_w: 0 }
/** How long after a command the stand-in firmware publishes the status that shows it (ms). */
let statusDelayMs = 0
// QoS 1: aedes 1.2.0 was seen not to forward a second QoS 0 retained publish on a topic to a
// live subscriber (the firmware's statuses are QoS 0; the end-to-end test shows them arriving).
const publishStatus = () => fw.publish(`${PREFIX}/status`, JSON.stringify({ ...chargerStatus(), ...current }), { retain: true, qos: 1 })

function udp(onFrame: (f: Frame) => void): Promise<Socket> {
    const s = createSocket("udp4")
    s.on("message", m => {
        const d = decodeFrame(new Uint8Array(m))
        if (d.ok) onFrame(d.frame)
    })
    return new Promise(r => s.bind(0, "127.0.0.1", () => r(s)))
}

function request(esv: number, props: { epc: number; edt: Uint8Array }[]): Promise<Frame> {
    const t = ++tid
    hems.send(encodeFrame({ tid: t, seoj: 0x05ff01, deoj: CHARGER_EOJ, esv, props }), gwPort, "127.0.0.1")
    return (async () => {
        for (let i = 0; i < 100; i++) {
            const f = replies.find(r => r.tid === t)
            if (f) return f
            await sleep(20)
        }
        throw new Error(`no answer to tid ${t}`)
    })()
}
const poll = () => request(ESV.Get, [{ epc: 0x80, edt: new Uint8Array(0) }])

beforeAll(async () => {
    broker = await Aedes.createBroker()
    server = createServer(broker.handle)
    await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()))
    const port = (server.address() as any).port
    fw = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 })
    await new Promise<void>(r => fw.once("connect", () => r()))
    await fw.subscribeAsync(`${PREFIX}/cmd`)
    fw.on("message", (_t, payload) => {
        const r = controller.handle(payload.toString(), 1000)
        if (!r.error) {
            const c = JSON.parse(payload.toString())
            current = { mode: c.mode ?? current.mode, setpoint_w: c.setpoint_w ?? (c.mode ? 0 : current.setpoint_w) }
        }
        commands.push({ at: Date.now(), cmd: JSON.parse(payload.toString()) })
        const shown = { ...current }
        const show = () => fw.publish(`${PREFIX}/status`, JSON.stringify({ ...chargerStatus(), ...shown }), { retain: true, qos: 1 })
        if (statusDelayMs > 0) setTimeout(show, statusDelayMs)
        else show()
        fw.publish(`${PREFIX}/event`, JSON.stringify(commandEventDoc(r.error, 1000, r.id)))
    })
    publishStatus()
    await fw.publishAsync(`${PREFIX}/status/online`, "true", { retain: true })

    group = await udp(f => groupFrames.push(f))
    hems = await udp(f => replies.push(f))
    gw = new Gateway({
        link: { broker: { mqttHost: "127.0.0.1", mqttPort: port, mqttTls: false }, prefix: PREFIX, backoff: DEVS.mqtt, commandTimeoutMs: 2000, connectTimeoutMs: 1000 },
        udp: { port: 0, bindAddress: "127.0.0.1", join: false, multicast: { address: "127.0.0.1", port: group.address().port } },
        batteryWh: 40000,
        manufacturerCode: 0xffffff,
        refreshMs: 250,
        controllerSilenceMs: 1000,
        log: l => process.env.ECHONET_TEST_VERBOSE && console.log(l),
    })
    gwPort = await gw.start()
    for (let i = 0; i < 100 && !gw.link.view().online; i++) await sleep(20)
})

afterAll(async () => {
    await gw?.stop()
    hems?.close()
    group?.close()
    fw?.end(true)
    server?.close()
    broker?.close()
})

describe("the gateway on loopback", () => {
    it("announces the instance list at start-up and goes online with the charger", () => {
        expect(groupFrames[0]).toMatchObject({ esv: ESV.INF, props: [{ epc: 0xd5, edt: Uint8Array.of(1, 0x02, 0x7e, 0x01) }] })
        expect(gw.link.view().online).toBe(true)
    })

    it("SetC discharge reaches the firmware as one command with an id; the change is notified", async () => {
        const r = await request(ESV.SetC, [
            { epc: 0xda, edt: Uint8Array.of(0x43) },
            { epc: 0xec, edt: Uint8Array.of(0, 0, 0x0b, 0xb8) },
        ])
        expect(r.esv).toBe(ESV.Set_Res)
        expect(commands.map(c => c.cmd)).toEqual([{ mode: "setpoint", setpoint_w: 3000, id: expect.stringMatching(/^el-\d+-\d+$/) }])
        expect(controller.v2h.status.setpointW).toBe(3000)
        const discharge = () => groupFrames.find(f => f.esv === ESV.INF && f.props.some(p => p.epc === 0xda && p.edt[0] === 0x43))
        for (let i = 0; i < 50 && !discharge(); i++) await sleep(20)
        expect(discharge()).toBeTruthy()
    })

    it("refresh: repeated while the controller polls, not after it went quiet", async () => {
        const from = Date.now()
        const since = () => commands.filter(c => c.at >= from)
        // One refresh per 250 ms while polled; polled until four came (at most 8 s: a loaded machine).
        for (let i = 0; i < 40 && since().length < 4; i++) {
            await poll()
            await sleep(200)
        }
        expect(since().length).toBeGreaterThanOrEqual(4)
        expect(commands.filter(c => c.at >= from).every(c => c.cmd.mode === "setpoint" && c.cmd.setpoint_w === 3000)).toBe(true)
        await sleep(1500) // the controller is quiet for longer than controllerSilenceMs
        const quietFrom = Date.now()
        await sleep(800)
        expect(commands.filter(c => c.at >= quietFrom)).toEqual([])
    })

    it("refresh stops for good once another HEMS changed the mode", async () => {
        fw.publish(`${PREFIX}/cmd`, JSON.stringify({ mode: "idle" })) // someone else, straight on MQTT
        await sleep(300)
        const from = Date.now()
        for (let i = 0; i < 6; i++) {
            await poll()
            await sleep(200)
        }
        expect(commands.filter(c => c.at >= from)).toEqual([])
        expect(current.mode).toBe("idle")
    })

    it("a refresh due before the charger's status shows a new command neither drops nor repeats it: it waits for that status", async () => {
        statusDelayMs = 700 // the firmware shows a command after its next tick and publish
        try {
            const r = await request(ESV.SetC, [
                { epc: 0xda, edt: Uint8Array.of(0x43) },
                { epc: 0xec, edt: Uint8Array.of(0, 0, 0x07, 0xd0) },
            ])
            expect(r.esv).toBe(ESV.Set_Res)
            const acceptedAt = Date.now()
            const refreshes = () => commands.filter(c => c.at > acceptedAt && c.cmd.setpoint_w === 2000)
            // Polled (the controller is there) for up to 8 s, until two refreshes came.
            for (let i = 0; i < 40 && refreshes().length < 2; i++) {
                await poll()
                await sleep(200)
            }
            // Refreshes at 250 ms fell due while the status still said "idle"; judged on it, the
            // command was dropped for good and never repeated.
            expect(refreshes().length).toBeGreaterThanOrEqual(2)
            expect(refreshes()[0].at - acceptedAt).toBeGreaterThanOrEqual(600) // none before the status showed it
        } finally {
            statusDelayMs = 0
        }
    })
})
