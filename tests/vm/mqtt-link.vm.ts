// The pure parts of the MQTT link inside the DeviceScript VM (string scanning with charCodeAt,
// indexOf/slice redaction, the queue's shift, JSON of the documents): a subset or runtime
// difference from Node shows up here. The same cases as tests/unit/mqtt-link.test.ts, fewer.
import { describe, expect, test } from "@devicescript/test"
import { DEVS } from "../../src/config/devs.gen"
import { Backoff } from "../../src/core/common/backoff"
import { BoundedQueue } from "../../src/core/common/bounded-queue"
import { Controller } from "../../src/core/controller"
import { commandEventDoc, TelemetrySchedule } from "../../src/core/hems/messages"
import { mqttTopics, redact, resolveMqttSettings, secretsOf } from "../../src/core/hems/mqtt-settings"

describe("mqtt link core in the VM", () => {
    test("backoff doubles to the max and resets", () => {
        const b = new Backoff({ backoffMinMs: 1000, backoffMaxMs: 5000, backoffJitterPct: 0 })
        expect(b.nextDelayMs(0)).toBe(1000)
        expect(b.nextDelayMs(0)).toBe(2000)
        expect(b.nextDelayMs(0)).toBe(4000)
        expect(b.nextDelayMs(0)).toBe(5000)
        b.reset()
        expect(b.nextDelayMs(0.5)).toBe(1000)
    })

    test("bounded queue drops the oldest", () => {
        const q = new BoundedQueue<string>(2)
        q.push("a")
        q.push("b")
        expect(q.push("c")).toBe(true)
        expect(q.dropped).toBe(1)
        expect(q.shift()).toBe("b")
        expect(q.shift()).toBe("c")
        expect(q.shift()).toBe(undefined)
    })

    test("settings: valid used, bad reported by key and replaced by the default", () => {
        const ok = resolveMqttSettings({ mqttHost: "broker.local", mqttTls: false, mqttPrefix: "site/ev-1" }, DEVS.mqtt, "abc")
        expect(ok.problems.length).toBe(0)
        expect(ok.settings.host).toBe("broker.local")
        expect(ok.settings.port).toBe(DEVS.mqtt.defaultPort)
        expect(ok.settings.prefix).toBe("site/ev-1")
        const bad = resolveMqttSettings({ mqttHost: "bad host", mqttPort: 0, mqttPrefix: "a/+", mqttPass: "x" }, DEVS.mqtt, "abc")
        expect(bad.badKeys.join(",")).toBe("mqttHost,mqttPort,mqttPass,mqttPrefix")
        expect(bad.settings.host).toBe("")
        expect(bad.settings.prefix).toBe(DEVS.mqtt.defaultPrefix + "/abc")
        for (const p of bad.problems) expect(p.indexOf("bad host")).toBe(-1)
    })

    test("redaction and topics", () => {
        const s = resolveMqttSettings({ mqttHost: "10.1.2.3", mqttPort: 8883, mqttUser: "alice", mqttPass: "pw" }, DEVS.mqtt, "abc").settings
        expect(redact("tls://10.1.2.3:8883 alice pw alice", secretsOf(s))).toBe("tls://****** *** *** ***")
        expect(mqttTopics("p").online).toBe("p/status/online")
    })

    test("a rejected command changes nothing; the documents serialise", () => {
        const c = new Controller(DEVS)
        const before = JSON.stringify(c.statusJson(0))
        const why = c.command("{\"mode\":\"setpoint\",\"setpoint_w\":1e999}", 10)
        expect(why.length > 0).toBe(true)
        expect(JSON.stringify(c.statusJson(0))).toBe(before)
        expect(JSON.stringify(commandEventDoc("", 1500))).toBe("{\"event\":\"command_accepted\",\"at_s\":1.5}")
        const t = new TelemetrySchedule(1000)
        expect(t.due(0)).toBe(true)
        expect(t.due(999)).toBe(false)
        expect(t.due(1000)).toBe(true)
    })
})
