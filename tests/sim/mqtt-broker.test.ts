// The HEMS link end to end: a real MQTT broker (aedes, in this process, on a free loopback port),
// the firmware bytecode in the DeviceScript VM in real time against the simulated plant, and a real
// MQTT client (mqtt.js) as the home energy manager. Assertions are on the simulator trace (what the
// plant did) and on what the broker delivered, never on log text; the VM log is only searched for
// secrets that must not be in it.
//
// One run of about 45 s covers: command -> the inverter follows; 1,000 fuzzed malformed payloads
// -> rejected with why, nothing changes, no panic, the VM still answers; broker down -> the V2H
// command timeout falls back to v2h.fallbackSetpointW; broker back -> reconnect, command followed
// again; the last will; no broker secrets in logs, status or telemetry.
// MQTT_TEST_DUMP=/tmp/x writes the VM log, the messages, the trace and the action times for a look.
import { createServer, type Server } from "node:net"
import { join } from "node:path"
import { Aedes } from "aedes"
import fc from "fast-check"
import mqtt, { type MqttClient } from "mqtt"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { SIM_DEVICE_ID, simulate, type SimRun } from "../../sim/engine"
import { buildFirmware } from "../../sim/firmware"
import { loadScenario } from "../../sim/scenario/load"
import type { TraceRow } from "../../sim/trace"
import { settingsFlash } from "../../sim/vm/settings"
import { DEVS } from "../../src/config/devs.gen"
import { parseCommand } from "../../src/core/hems/command"

const PREFIX = `charger/${SIM_DEVICE_ID}`
const USER = "hems-user-7f3a"
const PASSWORD = "pw-9c41e2d7b5"
const FUZZ_RUNS = 1000
/** Largest oversize payload among the fuzzed ones (tests/sim/mqtt-attacks.test.ts sends 1 MB). */
const OVERSIZE_MAX_BYTES = 20_000
/** 1,000 payloads must fit inside the command timeout (16 s) with the test's own overhead. */
const FUZZ_GAP_MS = 5
const FUZZ_BURST = 10
/** How long the broker stays down after the command timeout has expired. */
const OUTAGE_AFTER_TIMEOUT_S = 6
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

interface Msg {
    wallS: number
    topic: string
    text: string
}

const scenario = loadScenario(join(ROOT, "tests", "sim", "scenarios", "mqtt-hems.json"))
const TIMEOUT_S = scenario.config.v2h.commandTimeoutMs / 1000
let broker: Aedes
/** The firmware's CONNECT is refused until the test lets it in (so the HEMS is subscribed first). */
let admitFirmware = true
const firmwareLogins: { user: string; password: string; admitted: boolean }[] = []
let server: Server
let port = 0
let hems: MqttClient
const received: Msg[] = []
let run: SimRun
const vmLog: string[] = []
/** Sim seconds of the HEMS's actions (wall clock since the simulation started: it runs in real time). */
const at: Record<string, number> = {}
let fuzzPayloads: Buffer[] = []
let statusBefore: any
let statusAfterFuzz: any
let willAfterEnd: string | undefined
let t0 = 0
const nowS = () => (performance.now() - t0) / 1000

const listen = () => new Promise<void>(r => server.listen(port, "127.0.0.1", () => r()))

async function newBroker() {
    broker = await Aedes.createBroker()
    broker.authenticate = (client: any, user: any, password: any, done: any) => {
        if (!String(client.id).startsWith("devs_")) return done(null, true)
        firmwareLogins.push({ user: String(user), password: password ? password.toString() : "", admitted: admitFirmware })
        done(null, admitFirmware)
    }
}

async function startBroker() {
    await newBroker()
    server = createServer(broker.handle)
    await listen()
    port = (server.address() as any).port
}

/** Stops the broker: every connection dropped, no listener. */
async function stopBroker() {
    for (const c of Object.values((broker as any).clients)) (c as any).conn.destroy()
    await new Promise(r => server.close(r))
    await new Promise(r => broker.close(r))
}

async function restartBroker() {
    await newBroker()
    server = createServer(broker.handle)
    await listen()
}

async function waitFor(what: string, pred: () => boolean, timeoutS: number) {
    const end = performance.now() + timeoutS * 1000
    while (!pred()) {
        if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
        await sleep(50)
    }
}

const events = (fromS = 0, toS = Infinity) =>
    received.filter(m => m.topic === `${PREFIX}/event` && m.wallS >= fromS && m.wallS <= toS).map(m => ({ ...JSON.parse(m.text), wallS: m.wallS }))
const telemetry = (fromS = 0) => received.filter(m => m.topic === `${PREFIX}/telemetry` && m.wallS >= fromS)

/** A retained value as a new subscriber sees it (a fresh client: what a HEMS gets after its own restart). */
async function retained(topic: string): Promise<string | undefined> {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 })
    try {
        await new Promise((res, rej) => {
            c.once("connect", res)
            c.once("error", rej)
        })
        const got = new Promise<string | undefined>(res => {
            c.on("message", (t, p) => t === topic && res(p.toString()))
            setTimeout(() => res(undefined), 1000)
        })
        await c.subscribeAsync(topic)
        return await got
    } finally {
        c.end(true)
    }
}

function send(payload: object | string | Buffer) {
    hems.publish(`${PREFIX}/cmd`, typeof payload === "object" && !Buffer.isBuffer(payload) ? JSON.stringify(payload) : payload)
}

/** Payloads that must all be refused: each kind the issue names, generated by fast-check. */
function fuzzArbitrary(): fc.Arbitrary<Buffer> {
    const v = DEVS.v2h
    const key = fc.constantFrom("mode", "setpoint_w", "soc_floor_pct", "reserve_pct", "charge_limit_pct", "outlet_priority")
    const wrongType = fc.oneof(fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }))
    const text = fc.oneof(
        // malformed JSON
        fc.string({ maxLength: 60 }).filter(s => {
            try {
                JSON.parse(s)
                return false
            } catch {
                return true
            }
        }),
        fc.constantFrom("", "{", "}", "{\"mode\":", "{'mode':'idle'}", "{\"mode\":\"setpoint\",\"setpoint_w\":NaN}", "{\"setpoint_w\":Infinity}", "nul"),
        // wrong types
        fc.tuple(key, wrongType).map(([k, x]) => JSON.stringify(k === "setpoint_w" ? { mode: "setpoint", setpoint_w: x } : { [k]: x })),
        // NaN / Infinity written as numbers that overflow to Infinity
        fc.constantFrom("1e999", "-1e999").map(n => `{"mode":"setpoint","setpoint_w":${n}}`),
        // out of range
        fc.oneof(
            fc.double({ min: v.ratedPowerW + 1, max: 1e9, noNaN: true }).map(w => ({ mode: "setpoint", setpoint_w: w })),
            fc.double({ min: -1e9, max: -v.ratedPowerW - 1, noNaN: true }).map(w => ({ mode: "setpoint", setpoint_w: w })),
            fc.double({ min: DEVS.socFloor.maxPct + 0.5, max: 1e6, noNaN: true }).map(p => ({ soc_floor_pct: p })),
            fc.double({ min: -1e6, max: v.reserve.minPct - 0.5, noNaN: true }).map(p => ({ reserve_pct: p })),
            fc.integer({ min: DEVS.outlets.count + 1, max: 1000 }).map(n => ({ outlet_priority: n })),
            fc.constant({ outlet_priority: 1.5 }),
            fc.constant({ mode: "turbo" }),
        ).map(o => JSON.stringify(o)),
        // unknown fields (alone and next to a valid command)
        fc.string({ minLength: 1, maxLength: 12 }).filter(k => !["mode", "setpoint_w", "soc_floor_pct", "reserve_pct", "charge_limit_pct", "outlet_priority"].includes(k))
            .map(k => JSON.stringify({ mode: "setpoint", setpoint_w: 1000, [k]: 1 })),
        // not an object
        fc.oneof(fc.integer(), fc.array(fc.integer(), { maxLength: 3 }), fc.constant(null), fc.constant({})).map(x => JSON.stringify(x)),
        // oversize: a VALID command padded with whitespace beyond hems.maxPayloadBytes
        fc.integer({ min: DEVS.hems.maxPayloadBytes + 1, max: OVERSIZE_MAX_BYTES }).map(n => {
            const body = JSON.stringify({ mode: "setpoint", setpoint_w: 1000 })
            return body.slice(0, -1) + " ".repeat(n - body.length) + "}"
        }),
    )
    return fc.oneof(
        { weight: 9, arbitrary: text.map(s => Buffer.from(s, "utf8")) },
        // bytes that are not UTF-8 text
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map(b => Buffer.from(b)) },
    )
}

/** Independent check that a payload must be refused (the generator's own sanity). */
function mustBeRefused(b: Buffer): boolean {
    return b.length > DEVS.hems.maxPayloadBytes || parseCommand(b.toString("utf8"), DEVS).error !== ""
}

beforeAll(async () => {
    const bytecode = await buildFirmware(scenario.config)
    await startBroker()
    // A bad stored prefix (an MQTT wildcard) must be replaced by the default charger/<device id>,
    // which is where this test listens and commands.
    const flash = await settingsFlash(
        // Home Assistant discovery off: this test is the HEMS link's (discovery: tests/sim/ha-discovery.test.ts).
        { mqttHost: "127.0.0.1", mqttPort: port, mqttTls: false, mqttUser: USER, mqttPass: PASSWORD, mqttPrefix: "site/+/ev", mqttHa: false },
        SIM_DEVICE_ID,
    )
    fuzzPayloads = fc.sample(fuzzArbitrary(), { numRuns: FUZZ_RUNS, seed: 6 })

    hems = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 500, clientId: "hems-under-test" })
    hems.on("message", (topic, payload) => received.push({ wallS: nowS(), topic, text: payload.toString() }))
    await new Promise(r => hems.once("connect", r))
    // Everything on the broker (to see that nothing goes elsewhere than under the prefix).
    await hems.subscribeAsync("#")
    hems.on("connect", () => void hems.subscribeAsync("#"))

    // A stale retained command waiting on the broker: the firmware must not apply it.
    await hems.publishAsync(`${PREFIX}/cmd`, JSON.stringify({ mode: "setpoint", setpoint_w: -1500 }), { retain: true })

    t0 = performance.now()
    const sim = simulate(scenario, { bytecode, speed: "realtime", flash, onVmLog: l => vmLog.push(l) })
    const drive = (async () => {
        // 1. The firmware is connected once its telemetry arrives; command 3 kW discharge.
        await waitFor("first telemetry", () => telemetry().length > 0, 20)
        // (Not fatal here: the retained-command test reports it by name.)
        await waitFor("the retained command refused", () => events().some(e => e.event === "command_rejected"), 5).catch(() => {})
        at.command1 = nowS()
        send({ mode: "setpoint", setpoint_w: 3000 })
        await waitFor("command accepted", () => events(at.command1).some(e => e.event === "command_accepted"), 3)
        await waitFor("discharging", () => events(at.command1).some(e => e.event === "state" && e.state === "discharging"), 5)
        // The ramp (v2h.rampUpWPerS) done: the fuzz runs against a setpoint already followed, and
        // the window the first test averages is the whole fuzz (not what is left of it after a
        // fixed allowance for the ramp: on a quiet machine that was ~1 s, five trace rows).
        await waitFor("the setpoint reached", () => telemetry(at.command1).some(m => JSON.parse(m.text).inverter_w > 2900), 10)
        at.followed = nowS()
        statusBefore = JSON.parse((await retained(`${PREFIX}/status`))!)
        // 2. 1,000 malformed payloads, 200 per second.
        at.fuzzFrom = nowS()
        // In bursts of FUZZ_BURST (a sleep per message would stretch the fuzz past the command
        // timeout on a loaded machine).
        for (let i = 0; i < fuzzPayloads.length; i++) {
            send(fuzzPayloads[i])
            if (i % FUZZ_BURST === FUZZ_BURST - 1) await sleep(FUZZ_GAP_MS * FUZZ_BURST)
        }
        await sleep(1000)
        at.fuzzTo = nowS()
        statusAfterFuzz = JSON.parse((await retained(`${PREFIX}/status`))!)
        // 3. Still answering: a valid command (the same setpoint) is accepted; it refreshes the timeout.
        at.command2 = nowS()
        send({ mode: "setpoint", setpoint_w: 3000 })
        await waitFor("command accepted after the fuzz", () => events(at.command2).some(e => e.event === "command_accepted"), 3)
        // 4. Broker down: no command can arrive; the firmware falls back after v2h.commandTimeoutMs.
        await sleep(500)
        at.brokerDown = nowS()
        await stopBroker()
        await sleep((TIMEOUT_S + OUTAGE_AFTER_TIMEOUT_S - (nowS() - at.command2)) * 1000)
        // 5. Broker back: the HEMS reconnects first (the firmware's attempts are refused meanwhile,
        //    which exercises its backoff on a refused CONNECT), then the firmware; a new command is followed.
        at.brokerUp = nowS()
        admitFirmware = false
        await restartBroker()
        await waitFor("the HEMS back on the broker", () => hems.connected, 5)
        await hems.subscribeAsync("#")
        await waitFor("a refused firmware login", () => firmwareLogins.some(l => !l.admitted), 5)
        at.firmwareAdmitted = nowS()
        admitFirmware = true
        await waitFor("telemetry after the broker came back", () => telemetry(at.brokerUp).length > 0, 10)
        at.command3 = nowS()
        send({ mode: "setpoint", setpoint_w: 2000 })
    })()
    try {
        run = await sim
        await drive
    } finally {
        if (process.env.MQTT_TEST_DUMP) {
            const { writeFileSync } = await import("node:fs")
            writeFileSync(process.env.MQTT_TEST_DUMP + ".vm.log", vmLog.join("\n"))
            writeFileSync(process.env.MQTT_TEST_DUMP + ".at.json", JSON.stringify(at))
            if (run) writeFileSync(process.env.MQTT_TEST_DUMP + ".trace.csv", run.rows.map(r => [r.t_s, r.state, r.v2h_mode, r.v2h_target_w, Math.round(Number(r.inverter_w))].join(",")).join("\n"))
            writeFileSync(process.env.MQTT_TEST_DUMP + ".msgs", received.map(m => `${m.wallS.toFixed(2)} ${m.topic} ${m.text.slice(0, 150)}`).join("\n"))
        }
    }
    // 6. The simulation ended: its socket closed without an MQTT DISCONNECT (like a power loss) -> the last will.
    await sleep(300)
    willAfterEnd = await retained(`${PREFIX}/status/online`)
}, 120_000)

afterAll(async () => {
    hems?.end(true)
    if (server?.listening) await stopBroker()
})

const rowsBetween = (fromS: number, toS: number) => run.rows.filter(r => r.t_s >= fromS && r.t_s <= toS)
const mean = (rows: TraceRow[], c: keyof TraceRow) => rows.reduce((a, r) => a + Number(r[c]), 0) / rows.length

describe("HEMS over MQTT with a real broker, the firmware in the VM in real time", () => {
    it("runs without a firmware panic", () => {
        expect(run.warnings.filter(w => w.includes("panic"))).toEqual([])
    })

    it("a setpoint on <prefix>/cmd is followed by the simulated inverter", () => {
        // (+1 s: the trace's clock starts a little after the wall clock this test keeps.)
        const rows = rowsBetween(at.followed + 1, at.fuzzTo)
        expect(rows.length).toBeGreaterThan(12)
        expect(mean(rows, "inverter_w")).toBeGreaterThan(2900)
        expect(mean(rows, "inverter_w")).toBeLessThan(3100)
        expect(rows.every(r => r.state === "discharging" && r.v2h_mode === "setpoint")).toBe(true)
    })

    it(`${FUZZ_RUNS} malformed payloads: each must be refused, none changes anything, rejections name why`, () => {
        expect(fuzzPayloads.length).toBe(FUZZ_RUNS)
        expect(fuzzPayloads.filter(p => !mustBeRefused(p))).toEqual([])
        expect(events(at.fuzzFrom, at.command2).filter(e => e.event === "command_accepted")).toEqual([])
        // Rejections still being flushed after command2 count too (command2 itself is valid).
        const rejected = events(at.fuzzFrom, at.brokerDown).filter(e => e.event === "command_rejected")
        // Events beyond mqtt.eventQueueMax while the link is busy are dropped and counted in telemetry.
        const dropped = Math.max(0, ...telemetry(at.fuzzFrom).filter(m => m.wallS < at.brokerDown).map(m => JSON.parse(m.text).events_dropped))
        expect(rejected.length).toBeGreaterThan(100)
        expect(rejected.length + dropped, `${rejected.length} rejections seen + ${dropped} events dropped`).toBeGreaterThanOrEqual(FUZZ_RUNS)
        expect(rejected.filter(e => !(typeof e.reason === "string" && e.reason.length > 5))).toEqual([])
        for (const why of [/payload too long: \d+ bytes/, /not valid JSON/, /out of range/, /unknown key/, /must be a finite number/])
            expect(rejected.some(e => why.test(e.reason)), String(why)).toBe(true)
        const keys = ["mode", "setpoint_w", "reserve_pct", "charge_limit_pct", "soc_floor_pct", "outlet_priority"]
        for (const k of keys) expect(statusAfterFuzz[k]).toEqual(statusBefore[k])
        // (+1 s: the trace's clock starts a little after the wall clock this test keeps, and the
        // trace samples the firmware's status by polling.)
        const rows = rowsBetween(at.fuzzFrom + 1, at.fuzzTo)
        expect(rows.filter(r => !(r.v2h_mode === "setpoint" && r.v2h_target_w === 3000 && r.state === "discharging"))).toEqual([])
    })

    it("broker down: the setpoint holds until the command timeout, then the fallback applies", () => {
        const lastCmd = at.command2
        const before = rowsBetween(at.brokerDown + 0.5, lastCmd + TIMEOUT_S - 1)
        expect(before.length).toBeGreaterThan(4)
        expect(mean(before, "inverter_w")).toBeGreaterThan(2900)
        expect(before.every(r => r.v2h_target_w === 3000)).toBe(true)
        // The inverter ramps down within ~2 s of the fallback (plant lag).
        const after = rowsBetween(lastCmd + TIMEOUT_S + 3, at.brokerUp)
        expect(after.length).toBeGreaterThan(4)
        expect(after.every(r => r.v2h_target_w === scenario.config.v2h.fallbackSetpointW)).toBe(true)
        expect(after.every(r => Math.abs(Number(r.inverter_w) - scenario.config.v2h.fallbackSetpointW) < 100)).toBe(true)
    })

    it("broker back: the firmware reconnects with its credentials, delivers what it queued meanwhile, follows a new command", () => {
        expect(firmwareLogins.some(l => !l.admitted)).toBe(true) // refused while the test held it back...
        expect(firmwareLogins[firmwareLogins.length - 1]).toEqual({ user: USER, password: PASSWORD, admitted: true }) // ...then in
        // The command timeout happened while the broker was down: its event was queued, then published.
        // (The one for command3 may follow before the run ends: only those before command3.)
        const timeouts = events(at.brokerUp).filter(e => e.event === "command_timeout" && e.at_s < at.command3)
        expect(timeouts.length).toBe(1)
        expect(timeouts[0].at_s).toBeGreaterThan(at.brokerDown)
        expect(timeouts[0].at_s).toBeLessThan(at.firmwareAdmitted)
        expect(events(at.command3).some(e => e.event === "command_accepted")).toBe(true)
        const rows = rowsBetween(at.command3 + 5, at.command3 + 10)
        expect(rows.length).toBeGreaterThan(4)
        expect(mean(rows, "inverter_w")).toBeGreaterThan(1900)
        expect(mean(rows, "inverter_w")).toBeLessThan(2100)
    })

    it("status is retained with the measurements; the last will marks the charger offline", () => {
        expect(statusBefore).toMatchObject({ mode: "setpoint", setpoint_w: 3000, state: expect.any(String) })
        expect(typeof statusBefore.soc_pct).toBe("number")
        expect(typeof statusBefore.inverter_w).toBe("number")
        expect(typeof statusBefore.grid_w).toBe("number")
        expect(willAfterEnd).toBe("false")
    })

    it("mode changes and V2H state changes are published as events", () => {
        const evs = events(at.command1, at.fuzzFrom)
        expect(evs.some(e => e.event === "mode" && e.reason === "setpoint")).toBe(true)
        expect(evs.some(e => e.event === "state" && e.state === "discharging")).toBe(true)
    })

    it("broker address and credentials appear in no published payload, and user/password in no log line", () => {
        const published = received.map(m => m.text).join("\n")
        for (const secret of [USER, PASSWORD, `127.0.0.1:${port}`]) expect(published).not.toContain(secret)
        const log = vmLog.join("\n")
        for (const secret of [USER, PASSWORD]) {
            expect(log).not.toContain(secret)
            expect(log).not.toContain(Buffer.from(secret).toString("hex"))
        }
        expect(vmLog.some(l => l.includes("mqtt: connected"))).toBe(true) // the log was captured at all
    })

    it("a retained command on <prefix>/cmd is refused, not applied", () => {
        expect(events(0, at.command1).filter(e => e.event === "command_rejected").map(e => e.reason)).toEqual([
            expect.stringMatching(/^retained command ignored/),
        ])
        const rows = rowsBetween(0, at.command1)
        expect(rows.length).toBeGreaterThan(4)
        expect(rows.every(r => r.v2h_mode !== "setpoint" && r.v2h_target_w === 0 && Number(r.inverter_w) > -50)).toBe(true)
    })

    it("a bad stored setting (prefix with a wildcard) is not used: nothing was published under it", () => {
        expect(received.length).toBeGreaterThan(0)
        expect(received.every(m => m.topic.startsWith(`${PREFIX}/`))).toBe(true)
        expect(firmwareLogins.every(l => l.user === USER)).toBe(true)
        // ...and it was reported to the HEMS, naming the key.
        expect(events(0, at.command1).filter(e => e.event === "setting_rejected").map(e => e.reason)).toEqual([
            expect.stringMatching(/^setting mqttPrefix: = "site\/\+\/ev": .*not allowed.*; using the default "charger\/c0ffee00c0ffee01"/),
        ])
    })
})
