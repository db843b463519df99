// Home Assistant discovery end to end: a real MQTT broker (aedes, in this process, loopback, free
// port), the firmware bytecode in the DeviceScript VM in real time against the simulated plant,
// and an MQTT client that behaves like Home Assistant: it collects the discovery configs the
// charger publishes, checks them against Home Assistant's rules (tests/helpers/ha-schema.ts),
// subscribes to their state and availability topics, renders every value_template with a
// Jinja-compatible engine (nunjucks) against the status the charger publishes and compares the
// values with the simulator's trace; it announces itself (birth message) and expects the configs
// again; then it renders command templates with values and publishes them like Home Assistant's
// number/select entities do, and the trace shows that the charger followed (setpoint, mode) or
// the event stream that it refused (an out-of-range number: command_rejected, nothing changed).
import { createServer, type Server } from "node:net"
import { join } from "node:path"
import { Aedes } from "aedes"
import mqtt, { type MqttClient } from "mqtt"
import nunjucks from "nunjucks"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { SIM_DEVICE_ID, simulate, type SimRun } from "../../sim/engine"
import { buildFirmware } from "../../sim/firmware"
import { loadScenario } from "../../sim/scenario/load"
import type { TraceRow } from "../../sim/trace"
import { settingsFlash } from "../../sim/vm/settings"
import { DEVS } from "../../src/config/devs.gen"
import { BUILD_COMMIT } from "../../src/config/build.gen"
import { haConfig, haConfigCount } from "../../src/core/hems/ha-discovery"
import { mqttTopics } from "../../src/core/hems/mqtt-settings"
import { expandTilde, haConfigProblems } from "../helpers/ha-schema"

const PREFIX = `charger/${SIM_DEVICE_ID}`
const TOPICS = mqttTopics(PREFIX)
const HA = DEVS.mqtt.homeAssistant.defaultPrefix
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const env = new nunjucks.Environment(null, { autoescape: false })

interface Msg {
    wallS: number
    topic: string
    text: string
    retain: boolean
}

const scenario = loadScenario(join(ROOT, "tests", "sim", "scenarios", "ha-discovery.json"))
const N = haConfigCount(scenario.config)
let broker: Aedes
let server: Server
let ha: MqttClient
const received: Msg[] = []
let run: SimRun
let t0 = 0
const nowS = () => (performance.now() - t0) / 1000
const at: Record<string, number> = {}
/** The configs as Home Assistant collected them at connect, and again after its birth message. */
let firstConfigs: Msg[] = []
let birthConfigs: Msg[] = []
/** Rendered value templates, with the status they were rendered against and when. */
let rendered: { atS: number; status: any; values: Record<string, string> } | undefined
let renderedAfter: { atS: number; status: any; values: Record<string, string> } | undefined
const sent: Record<string, string> = {}
let availability: string | undefined
let offWarnings: string[] = []

async function waitFor(what: string, pred: () => boolean, timeoutS: number) {
    const end = performance.now() + timeoutS * 1000
    while (!pred()) {
        if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
        await sleep(50)
    }
}

const configsSince = (fromS: number) => {
    const byTopic = new Map<string, Msg>()
    for (const m of received) if (m.wallS >= fromS && m.topic.startsWith(`${HA}/`) && m.topic.endsWith("/config")) byTopic.set(m.topic, m)
    return [...byTopic.values()]
}
const latest = (topic: string) => [...received].reverse().find(m => m.topic === topic)
const bodyOf = (id: string) => {
    const m = firstConfigs.find(c => c.topic.endsWith(`/${id}/config`))
    if (!m) throw new Error(`no discovery config for ${id}`)
    return JSON.parse(m.text)
}
const events = (fromS: number) => received.filter(m => m.topic === TOPICS.event && m.wallS >= fromS).map(m => JSON.parse(m.text))

/** All value templates rendered as Home Assistant would, against the latest status. */
function renderAll() {
    const status = JSON.parse(latest(TOPICS.status)!.text)
    const values: Record<string, string> = {}
    for (const c of firstConfigs) {
        const b = JSON.parse(c.text)
        values[b.uniq_id.slice(SIM_DEVICE_ID.length + 1)] = env.renderString(b.val_tpl, { value_json: status, value: latest(TOPICS.status)!.text })
    }
    return { atS: nowS(), status, values }
}

/** What Home Assistant sends when a number or select is set: its command template rendered with the value. */
function command(id: string, value: unknown) {
    const b = bodyOf(id)
    const payload = env.renderString(b.cmd_tpl, { value })
    sent[`${id}=${value}`] = payload
    ha.publish(expandTilde(b.cmd_t, b["~"]), payload)
}

beforeAll(async () => {
    const bytecode = await buildFirmware(scenario.config)
    broker = await Aedes.createBroker()
    server = createServer(broker.handle)
    await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()))
    const port = (server.address() as any).port
    const flash = await settingsFlash({ mqttHost: "127.0.0.1", mqttPort: port, mqttTls: false }, SIM_DEVICE_ID)
    ha = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: "home-assistant-under-test" })
    ha.on("message", (topic, payload, packet) => received.push({ wallS: nowS(), topic, text: payload.toString(), retain: !!packet.retain }))
    await new Promise(r => ha.once("connect", r))
    // Home Assistant listens for discovery, and (once it has the configs) to their topics.
    await ha.subscribeAsync(`${HA}/#`)
    await ha.subscribeAsync([TOPICS.status, TOPICS.online, TOPICS.event])

    t0 = performance.now()
    const sim = simulate(scenario, { bytecode, speed: "realtime", flash })
    const drive = (async () => {
        await waitFor("the discovery configs", () => configsSince(0).length >= N, 15)
        firstConfigs = configsSince(0)
        await waitFor("a status with a SoC reading", () => !!latest(TOPICS.status) && JSON.parse(latest(TOPICS.status)!.text).soc_pct !== null, 10)
        await sleep(3000) // the lamp is on and the readings have settled
        availability = latest(TOPICS.online)?.text
        rendered = renderAll()
        // Home Assistant restarts: its birth message; the charger announces again.
        at.birth = nowS()
        ha.publish(`${HA}/status`, "online")
        await waitFor("the configs again after the birth message", () => configsSince(at.birth).length >= N, 10)
        birthConfigs = configsSince(at.birth)
        // Home Assistant's number "V2H setpoint" set to 2500 W.
        at.setpoint = nowS()
        command("setpoint", 2500)
        await waitFor("the setpoint accepted", () => events(at.setpoint).some(e => e.event === "command_accepted"), 5)
        await sleep(6000) // ramp at v2h.rampUpWPerS
        // Out of range (Home Assistant would refuse it in its UI; an automation may still send it).
        at.reserveBad = nowS()
        command("reserve", DEVS.v2h.reserve.maxPct + 5)
        await waitFor("the out-of-range reserve refused", () => events(at.reserveBad).some(e => e.event === "command_rejected"), 5)
        at.priority = nowS()
        command("outlet_priority", "2")
        await waitFor("the priority accepted", () => events(at.priority).some(e => e.event === "command_accepted"), 5)
        await sleep(1500)
        renderedAfter = renderAll()
        // The select "V2H mode" set to idle.
        at.idle = nowS()
        command("v2h_mode", "idle")
        await waitFor("idle accepted", () => events(at.idle).some(e => e.event === "command_accepted"), 5)
    })()
    run = await sim
    await drive

    // Discovery switched off (setting mqttHa false), with a custom discovery prefix stored too: a
    // short second run. Nothing may appear under either prefix, even after a birth message.
    const offFlash = await settingsFlash({ mqttHost: "127.0.0.1", mqttPort: port, mqttTls: false, mqttHa: false, mqttHaPrefix: "ha-off" }, SIM_DEVICE_ID)
    await ha.subscribeAsync("ha-off/#")
    at.offStart = nowS()
    const short = { ...scenario, durationS: 12 }
    const offRun = simulate(short, { bytecode, speed: "realtime", flash: offFlash })
    await waitFor("the status of the second run", () => received.some(m => m.topic === TOPICS.status && m.wallS > at.offStart + 1), 10)
    ha.publish("ha-off/status", "online")
    ha.publish(`${HA}/status`, "online")
    offWarnings = (await offRun).warnings
    at.offEnd = nowS()
}, 150_000)

afterAll(async () => {
    ha?.end(true)
    for (const c of Object.values((broker as any)?.clients ?? {})) (c as any).conn.destroy()
    if (server?.listening) await new Promise(r => server.close(r))
    if (broker) await new Promise(r => broker.close(r))
})

const rowsBetween = (fromS: number, toS: number) => run.rows.filter(r => r.t_s >= fromS && r.t_s <= toS)
const nearestRow = (tS: number): TraceRow => run.rows.reduce((a, r) => (Math.abs(r.t_s - tS) < Math.abs(a.t_s - tS) ? r : a))

describe("Home Assistant discovery with a real broker, the firmware in the VM in real time", () => {
    it("runs without a firmware panic", () => {
        expect(run.warnings.filter(w => w.includes("panic"))).toEqual([])
    })

    it(`publishes ${N} retained configs that pass Home Assistant's discovery rules and point at the charger's topics`, () => {
        expect(firstConfigs.length).toBe(N)
        expect(haConfigProblems(firstConfigs.map(c => ({ topic: c.topic, payload: c.text })), HA, TOPICS, DEVS.mqtt.homeAssistant.maxConfigBytes)).toEqual([])
        const dev = JSON.parse(firstConfigs[0].text).dev
        expect(dev.ids).toEqual([SIM_DEVICE_ID])
        expect(dev.sw).toMatch(/^([0-9a-f]{12}(-dirty)?|unknown)$/)
        expect(availability).toBe("true")
    })

    it("they are, byte for byte and in order, the configs the core defines (the firmware fills build-time templates)", () => {
        const ctx = { cfg: scenario.config, discoveryPrefix: HA, topicPrefix: PREFIX, deviceId: SIM_DEVICE_ID, swVersion: BUILD_COMMIT }
        expect(firstConfigs.map(c => ({ topic: c.topic, payload: c.text }))).toEqual(Array.from({ length: N }, (_, i) => haConfig(i, ctx)))
    })

    it("they are retained: a Home Assistant that starts later finds them on the broker", async () => {
        const retainedTopics = new Set<string>()
        const c = mqtt.connect(`mqtt://127.0.0.1:${(server.address() as any).port}`, { reconnectPeriod: 0 })
        await new Promise(r => c.once("connect", r))
        c.on("message", (t, _p, pkt) => pkt.retain && retainedTopics.add(t))
        await c.subscribeAsync(`${HA}/#`)
        await sleep(500)
        c.end(true)
        expect([...retainedTopics].filter(t => t.endsWith("/config")).sort()).toEqual(firstConfigs.map(m => m.topic).sort())
    })

    it("announces again when Home Assistant's birth message arrives", () => {
        expect(birthConfigs.map(c => c.topic).sort()).toEqual(firstConfigs.map(c => c.topic).sort())
        expect(birthConfigs.map(c => c.text).sort()).toEqual(firstConfigs.map(c => c.text).sort())
    })

    it("every value template renders, against the published status, the value the trace shows", () => {
        const r = rendered!
        const row = nearestRow(r.atS - 0.5)
        const num = (id: string) => Number(r.values[id])
        for (const [id, v] of Object.entries(r.values)) expect(v, id).not.toBe("")
        expect(num("soc")).toBeCloseTo(Number(row.soc_pct), 0)
        expect(Math.abs(num("grid_power") - Number(row.grid_w))).toBeLessThan(150)
        expect(Math.abs(num("inverter_power") - Number(row.inverter_w))).toBeLessThan(150)
        expect(Math.abs(num("outlets_power") - Number(row.outlet1_w) - Number(row.outlet2_w))).toBeLessThan(30)
        expect(num("outlets_power")).toBeGreaterThan(250) // the lamp
        expect(r.values.outlet1).toBe(row.outlet1_on ? "ON" : "OFF")
        expect(r.values.outlet1).toBe("ON")
        expect(r.values.outlet1_reason).toBe(row.outlet1_reason)
        expect(r.values.v2h_state).toBe(row.state)
        expect(r.values.v2h_mode).toBe(row.v2h_mode)
        expect(r.values.limit).toBe(row.limit_reason)
        expect(r.values.fault).toBe(row.fault)
        expect(r.values.last_fault).toBe("none")
        for (const e of ["energy_discharged", "energy_charged", "energy_outlets"]) expect(Number.isInteger(num(e)), e).toBe(true)
        expect(num("energy_outlets")).toBeGreaterThanOrEqual(0)
        expect(r.values.reserve).toBe(String(DEVS.v2h.reserve.defaultPct))
        expect(r.values.outlet_priority).toBe(String(DEVS.outlets.highPriorityOutlet))
    })

    it("the setpoint number's command is followed by the simulated inverter, and the number then shows it", () => {
        expect(sent["setpoint=2500"]).toBe('{"mode":"setpoint","setpoint_w":2500}')
        const rows = rowsBetween(at.setpoint + 4, at.reserveBad)
        expect(rows.length).toBeGreaterThan(4)
        expect(rows.every(r => r.v2h_mode === "setpoint" && r.v2h_target_w === 2500)).toBe(true)
        const mean = rows.reduce((a, r) => a + Number(r.inverter_w), 0) / rows.length
        expect(Math.abs(mean - 2500)).toBeLessThan(100)
        expect(renderedAfter!.values.setpoint).toBe("2500")
        expect(renderedAfter!.values.v2h_mode).toBe("setpoint")
        // The energy counter for discharge grows while discharging.
        expect(Number(renderedAfter!.values.energy_discharged)).toBeGreaterThan(Number(rendered!.values.energy_discharged))
    })

    it("an out-of-range reserve is refused with a command_rejected event naming the rule; the reserve stays", () => {
        const rej = events(at.reserveBad).filter(e => e.event === "command_rejected")
        expect(rej[0].reason).toMatch(/reserve_pct = \d+: out of range/)
        expect(renderedAfter!.status.reserve_pct).toBe(DEVS.v2h.reserve.defaultPct)
        expect(renderedAfter!.values.reserve).toBe(String(DEVS.v2h.reserve.defaultPct))
    })

    it("the priority select changes the outlet priority", () => {
        expect(renderedAfter!.status.outlet_priority).toBe(2)
        expect(renderedAfter!.values.outlet_priority).toBe("2")
    })

    it("with discovery switched off (mqttHa false) no config is published, not even after a birth message", () => {
        expect(offWarnings.filter(w => w.includes("panic"))).toEqual([])
        const during = received.filter(m => m.wallS > at.offStart && m.wallS <= at.offEnd)
        expect(during.some(m => m.topic === TOPICS.status)).toBe(true) // the link itself ran
        expect(during.filter(m => m.topic.endsWith("/config") && !m.retain)).toEqual([])
    })

    it("the mode select changes the mode: idle, and the inverter ramps down", () => {
        const rows = rowsBetween(at.idle + 1, at.idle + 100)
        expect(rows.length).toBeGreaterThan(4)
        expect(rows.every(r => r.v2h_mode === "idle")).toBe(true)
        expect(Math.abs(Number(rows[rows.length - 1].inverter_w))).toBeLessThan(100)
    })
})
