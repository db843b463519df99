// The pure parts of the HEMS MQTT link: reconnect backoff, bounded queue, settings validation
// and redaction, topics, published documents, telemetry schedule; and the controller pieces the
// link relies on (measurements in the status document, mode-change events from commands).
import { readFileSync } from "node:fs"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DEVS_JSON, validateDevsConfig } from "../../scripts/lib/devs-config"
import { DEVS } from "../../src/config/devs.gen"
import { Backoff } from "../../src/core/common/backoff"
import { BoundedQueue } from "../../src/core/common/bounded-queue"
import { defaultPersisted } from "../../src/core/persist"
import { Controller } from "../../src/core/controller"
import { commandEventDoc, settingRejectedDoc, protectionEventDoc, telemetryDoc, TelemetrySchedule, v2hEventDoc } from "../../src/core/hems/messages"
import { mqttTopics, redact, resolveMqttSettings, secretsOf } from "../../src/core/hems/mqtt-settings"
import type { V2hInput } from "../../src/core/v2h/io"

const M = DEVS.mqtt
const RUNS = Number(process.env.FC_RUNS ?? 1000)

describe("reconnect backoff", () => {
    const cfg = { backoffMinMs: 1000, backoffMaxMs: 60000, backoffJitterPct: 0 }

    it("doubles from min to max, then stays at max; a success starts again at min", () => {
        const b = new Backoff(cfg)
        const d = Array.from({ length: 9 }, () => b.nextDelayMs(0))
        expect(d).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000])
        b.reset()
        expect(b.nextDelayMs(0)).toBe(1000)
    })

    it("jitter shortens by at most backoffJitterPct and never goes below min or above max", () => {
        fc.assert(
            fc.property(fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 20 }), rs => {
                const b = new Backoff({ ...cfg, backoffJitterPct: 20 })
                const plain = new Backoff(cfg)
                for (const r of rs) {
                    const d = b.nextDelayMs(r)
                    const base = plain.nextDelayMs(0)
                    expect(d).toBeLessThanOrEqual(base)
                    expect(d).toBeGreaterThanOrEqual(Math.max(cfg.backoffMinMs, Math.floor(base * 0.8)))
                }
            }),
            { numRuns: RUNS },
        )
    })

    it("a random value outside [0, 1) (NaN too) counts as 0", () => {
        for (const r of [NaN, -1, 1, 5]) expect(new Backoff({ ...cfg, backoffJitterPct: 50 }).nextDelayMs(r)).toBe(1000)
    })

    it("the shipped config: min 1 s, max 60 s", () => {
        const b = new Backoff(M)
        expect(b.nextDelayMs(0)).toBe(M.backoffMinMs)
        for (let i = 0; i < 20; i++) b.nextDelayMs(0)
        expect(b.nextDelayMs(0)).toBe(M.backoffMaxMs)
    })
})

describe("bounded queue", () => {
    it("keeps the newest `capacity` items in order and counts the dropped oldest", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.integer(), { maxLength: 40 }), (cap, xs) => {
                const q = new BoundedQueue<number>(cap)
                for (const x of xs) q.push(x)
                const out: number[] = []
                while (q.size()) out.push(q.shift())
                expect(out).toEqual(xs.slice(Math.max(0, xs.length - cap)))
                expect(q.dropped).toBe(Math.max(0, xs.length - cap))
            }),
            { numRuns: RUNS },
        )
    })

    it("push reports a drop; peek does not remove; empty gives undefined", () => {
        const q = new BoundedQueue<string>(1)
        expect(q.peek()).toBeUndefined()
        expect(q.push("a")).toBe(false)
        expect(q.push("b")).toBe(true)
        expect(q.peek()).toBe("b")
        expect(q.shift()).toBe("b")
        expect(q.shift()).toBeUndefined()
    })
})

describe("broker settings", () => {
    const ID = "c0ffee00c0ffee01"
    const resolve = (stored: any) => resolveMqttSettings(stored, M, ID)

    it("nothing stored: link off, defaults, no problem", () => {
        const r = resolve({})
        expect(r.problems).toEqual([])
        const ha = { haDiscovery: M.homeAssistant.defaultEnabled, haPrefix: M.homeAssistant.defaultPrefix }
        expect(r.settings).toEqual({ host: "", port: M.defaultTlsPort, tls: M.defaultTls, user: "", password: "", prefix: `${M.defaultPrefix}/${ID}`, ...ha })
    })

    it("valid values are used; the port default follows TLS", () => {
        const r = resolve({ mqttHost: "broker.local", mqttTls: false, mqttUser: "u", mqttPass: "p", mqttPrefix: "site/ev-1", mqttHa: false, mqttHaPrefix: "ha/disc" })
        expect(r.problems).toEqual([])
        expect(r.settings).toEqual({ host: "broker.local", port: M.defaultPort, tls: false, user: "u", password: "p", prefix: "site/ev-1", haDiscovery: false, haPrefix: "ha/disc" })
        expect(resolve({ mqttHost: "10.0.0.2", mqttPort: 18883 }).settings.port).toBe(18883)
    })

    it.each([
        [{ mqttHost: 42 }, "mqttHost", "host", ""],
        [{ mqttHost: "bad host" }, "mqttHost", "host", ""],
        [{ mqttHost: "-x" }, "mqttHost", "host", ""],
        [{ mqttHost: "a".repeat(300) }, "mqttHost", "host", ""],
        [{ mqttPort: 0 }, "mqttPort", "port", M.defaultTlsPort],
        [{ mqttPort: 70000 }, "mqttPort", "port", M.defaultTlsPort],
        [{ mqttPort: 1883.5 }, "mqttPort", "port", M.defaultTlsPort],
        [{ mqttPort: "1883" }, "mqttPort", "port", M.defaultTlsPort],
        [{ mqttTls: "yes" }, "mqttTls", "tls", M.defaultTls],
        [{ mqttUser: "tab\there" }, "mqttUser", "user", ""],
        [{ mqttUser: "x".repeat(65) }, "mqttUser", "user", ""],
        [{ mqttPass: "secret" }, "mqttPass", "password", ""], // a password without a user
        [{ mqttUser: "u", mqttPass: 1234 }, "mqttPass", "password", ""],
        [{ mqttPrefix: "a/+/b" }, "mqttPrefix", "prefix", `${M.defaultPrefix}/${ID}`],
        [{ mqttPrefix: "a/#" }, "mqttPrefix", "prefix", `${M.defaultPrefix}/${ID}`],
        [{ mqttPrefix: "/a" }, "mqttPrefix", "prefix", `${M.defaultPrefix}/${ID}`],
        [{ mqttPrefix: "a//b" }, "mqttPrefix", "prefix", `${M.defaultPrefix}/${ID}`],
        [{ mqttPrefix: "" }, "mqttPrefix", "prefix", `${M.defaultPrefix}/${ID}`],
        [{ mqttPrefix: ["x"] }, "mqttPrefix", "prefix", `${M.defaultPrefix}/${ID}`],
        [{ mqttHa: "on" }, "mqttHa", "haDiscovery", M.homeAssistant.defaultEnabled],
        [{ mqttHa: 1 }, "mqttHa", "haDiscovery", M.homeAssistant.defaultEnabled],
        [{ mqttHaPrefix: "ha/#" }, "mqttHaPrefix", "haPrefix", M.homeAssistant.defaultPrefix],
        [{ mqttHaPrefix: "" }, "mqttHaPrefix", "haPrefix", M.homeAssistant.defaultPrefix],
        [{ mqttHaPrefix: 7 }, "mqttHaPrefix", "haPrefix", M.homeAssistant.defaultPrefix],
    ])("bad %j: reported by key, listed for deletion, the default used instead", (stored, key, field, fallback) => {
        const r = resolve(stored)
        expect(r.problems).toHaveLength(1)
        expect(r.problems[0]).toMatch(new RegExp(`^setting ${key}: .+; using .+`))
        expect(r.badKeys).toEqual([key])
        expect((r.settings as any)[field]).toEqual(fallback)
    })

    it("problem messages never contain the host, port, user or password value", () => {
        const secrets = { mqttHost: "evil host.example", mqttPort: 99999, mqttUser: "bob\u0001x", mqttPass: "hunter2\u0000" }
        const r = resolve(secrets)
        expect(r.problems).toHaveLength(4)
        for (const p of r.problems) for (const v of ["evil host", "99999", "bob", "hunter2"]) expect(p).not.toContain(v)
    })

    it("redact removes every occurrence of host, user, password and :port", () => {
        const s = resolve({ mqttHost: "10.1.2.3", mqttPort: 8883, mqttUser: "alice", mqttPass: "pw" }).settings
        const text = "socket tls://10.1.2.3:8883: alice/pw failed at 10.1.2.3:8883"
        const out = redact(text, secretsOf(s))
        for (const v of ["10.1.2.3", "8883", "alice", "pw"]) expect(out).not.toContain(v)
        expect(redact("nothing to hide", secretsOf(s))).toBe("nothing to hide")
    })

    it("the shipped defaults are valid settings values", () => {
        expect(resolve({ mqttPrefix: `${M.defaultPrefix}/${ID}` }).problems).toEqual([])
    })
})

describe("devs.json mqtt rules", () => {
    const shipped = () => JSON.parse(readFileSync(DEVS_JSON, "utf8"))
    const problems = (mutate: (c: any) => void) => {
        const c = shipped()
        mutate(c)
        try {
            validateDevsConfig(c)
            return []
        } catch (e: any) {
            return e.problems as string[]
        }
    }
    it("backoffMinMs must not exceed backoffMaxMs; the default prefix must be a usable topic level", () => {
        expect(problems(c => (c.mqtt.backoffMinMs = 90000))).toEqual([expect.stringMatching(/^\/mqtt\/backoffMinMs = 90000: must not exceed backoffMaxMs/)])
        expect(problems(c => (c.mqtt.defaultPrefix = "a/+"))).toEqual([expect.stringMatching(/^\/mqtt\/defaultPrefix = "a\/\+": character "\+"/)])
        expect(problems(c => (c.mqtt.defaultPrefix = "a/"))).toEqual([expect.stringMatching(/no empty topic level/)])
        expect(problems(c => (c.mqtt.telemetryPeriodMs = 10))).toEqual([expect.stringMatching(/^\/mqtt\/telemetryPeriodMs/)])
    })
})

describe("topics and documents", () => {
    it("the topic tree under a prefix", () => {
        expect(mqttTopics("p/q")).toEqual({ status: "p/q/status", online: "p/q/status/online", telemetry: "p/q/telemetry", event: "p/q/event", cmd: "p/q/cmd" })
    })

    it("events: protection, V2H, command results; times in seconds", () => {
        expect(protectionEventDoc({ atMs: 12345, kind: "trip", outlet: 2, reason: "overload_inverse", loadRatio: 1.51234 } as any)).toEqual({
            event: "trip",
            at_s: 12.345,
            outlet: 2,
            reason: "overload_inverse",
            load_ratio: 1.512,
        })
        expect(v2hEventDoc({ atMs: 500, kind: "fault", state: "fault", fault: "estop", reason: "estop" })).toEqual({
            event: "fault",
            at_s: 0.5,
            state: "fault",
            fault: "estop",
            reason: "estop",
        })
        expect(commandEventDoc("", 1000)).toEqual({ event: "command_accepted", at_s: 1 })
        expect(commandEventDoc("", 1000, "el-1")).toEqual({ event: "command_accepted", at_s: 1, id: "el-1" })
        expect(commandEventDoc("bad", 1000, "el-2")).toEqual({ event: "command_rejected", at_s: 1, reason: "bad", id: "el-2" })
        expect(settingRejectedDoc("setting mqttTls: ...", 20)).toEqual({ event: "setting_rejected", at_s: 0.02, reason: "setting mqttTls: ..." })
        expect(commandEventDoc("mode = 3: must be one of ...", 1000)).toEqual({ event: "command_rejected", at_s: 1, reason: "mode = 3: must be one of ..." })
    })

    it("telemetry every period, the first at once, again at once after a reconnect; a late check keeps the grid", () => {
        const t = new TelemetrySchedule(5000)
        const due = (ms: number) => t.due(ms)
        expect([due(100), due(4000), due(5099), due(5100), due(10050), due(10100)]).toEqual([true, false, false, true, false, true])
        expect(due(10300)).toBe(false)
        expect(due(15200)).toBe(true) // late by 100 ms: next at 20100
        expect(due(20100)).toBe(true)
        expect(due(60000)).toBe(true) // missed periods: restart from now
        expect(due(64999)).toBe(false)
        t.restart()
        expect(due(65000)).toBe(true)
    })
})

describe("controller for the link", () => {
    const input = (nowMs: number): V2hInput => ({
        nowMs,
        estop: false,
        socPct: 70.04,
        batteryVoltageV: 360,
        maxDischargeCurrentA: 100,
        maxChargeCurrentA: 100,
        batteryAtMs: nowMs,
        inverterW: 1234.4,
        inverterTempC: 35.26,
        contactorClosed: false,
        gridRelayClosed: true,
        inverterAtMs: nowMs,
        gridW: -99.6,
        gridVoltageV: 100.04,
        gridFrequencyHz: 60.004,
        gridAtMs: nowMs,
        outletsW: 0,
        outletOn: [true, true],
        outletW: [0, 0],
        outletWelded: [false, false],
    })

    it("status document: measurements of the last tick (null before); telemetry built from it", () => {
        const c = new Controller(DEVS)
        const before = c.statusJson(0)
        expect([before.soc_pct, before.inverter_w, before.grid_w]).toEqual([null, null, null])
        c.v2h.tick(input(100))
        const s = c.statusJson(100)
        expect(s).toMatchObject({ soc_pct: 70, inverter_w: 1234, grid_w: -100, grid_voltage_v: 100, grid_frequency_hz: 60, inverter_temp_c: 35.3 })
        const t = telemetryDoc(s, 100, 3)
        expect(t).toMatchObject({ at_s: 0.1, soc_pct: 70, inverter_w: 1234, grid_w: -100, events_dropped: 3, outlets_on: [false, false] }) // protection not ticked: outlets off
    })

    it("status document for gateways: vehicle link, rated power, energy counters", () => {
        const c = new Controller(DEVS)
        expect(c.statusJson(0)).toMatchObject({ vehicle: "none", rated_power_w: DEVS.v2h.ratedPowerW, energy_discharged_wh: 0, energy_charged_wh: 0, max_charge_a: null })
        expect(c.statusJson(0).reverse_flow_allowed).toBe(DEVS.v2h.reverseFlowAllowed)
        c.v2h.tick(input(100))
        c.boot({ ...defaultPersisted(DEVS), wh: [1234.6, 55.2, 0] }, 100)
        expect(c.statusJson(100)).toMatchObject({ vehicle: "both", energy_discharged_wh: 1234, energy_charged_wh: 55, max_charge_a: 100, max_discharge_a: 100 })
        expect(c.statusJson(100 + DEVS.v2h.readingTimeoutMs + 1).vehicle).toBe("none") // stale reading: no vehicle
        c.v2h.tick({ ...input(200), maxChargeCurrentA: 0 })
        expect(c.statusJson(200).vehicle).toBe("dischargeable")
        c.v2h.tick({ ...input(300), maxDischargeCurrentA: 0 })
        expect(c.statusJson(300).vehicle).toBe("chargeable")
        c.v2h.tick({ ...input(400), maxDischargeCurrentA: 0, maxChargeCurrentA: 0 })
        expect(c.statusJson(400).vehicle).toBe("connected")
    })

    it("a mode change made by a command between ticks is reported by the next tick, once", () => {
        const c = new Controller(DEVS)
        c.v2h.tick(input(100))
        expect(c.command('{"mode":"setpoint","setpoint_w":1000}', 150)).toBe("")
        const evs = c.v2h.tick(input(200)).events
        expect(evs.filter(e => e.kind === "mode")).toEqual([expect.objectContaining({ kind: "mode", reason: "setpoint", atMs: 150 })])
        expect(c.v2h.tick(input(300)).events.filter(e => e.kind === "mode")).toEqual([])
    })

    it("a rejected command changes nothing and raises no event", () => {
        const c = new Controller(DEVS)
        c.v2h.tick(input(100))
        const before = JSON.stringify(c.statusJson(100))
        expect(c.command('{"mode":"setpoint","setpoint_w":1e999}', 150)).toMatch(/setpoint_w = Infinity: must be a finite number/)
        expect(JSON.stringify(c.statusJson(100))).toBe(before)
        expect(c.v2h.tick(input(200)).events.filter(e => e.kind === "mode")).toEqual([])
    })
})
