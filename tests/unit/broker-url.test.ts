// `npm run sim -- ... --broker URL [--mqtt-prefix P]`: URL -> the firmware's device settings, and
// the CLI's refusals (exit code 2, the reason named) before anything runs.
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { brokerSettings } from "../../sim/broker-url"
import { DEVS } from "../../src/config/devs.gen"

describe("--broker URL", () => {
    it("mqtt: is plain TCP, mqtts: is TLS; ports default from devs.json; credentials and prefix carried", () => {
        expect(brokerSettings("mqtt://127.0.0.1:1884")).toEqual({ mqttHost: "127.0.0.1", mqttPort: 1884, mqttTls: false })
        expect(brokerSettings("mqtt://broker.local")).toEqual({ mqttHost: "broker.local", mqttPort: DEVS.mqtt.defaultPort, mqttTls: false })
        expect(brokerSettings("mqtts://u%40x:p%3Aw@broker.local", "site/ev1")).toEqual({
            mqttHost: "broker.local",
            mqttPort: DEVS.mqtt.defaultTlsPort,
            mqttTls: true,
            mqttUser: "u@x",
            mqttPass: "p:w",
            mqttPrefix: "site/ev1",
        })
    })

    it.each([
        ["not a url", undefined, /is not a URL/],
        ["http://h:1", undefined, /scheme must be mqtt: .* or mqtts:/],
        ["mqtt://h:1/topic", undefined, /no path allowed/],
        ["mqtt://h:1", "a/#", /prefix "a\/#": .*not allowed/],
        ["mqtt://h:1", "a//b", /no empty topic level/],
    ])("%s (prefix %s) is refused with why", (url, prefix, why) => {
        expect(brokerSettings(url, prefix)).toMatch(why)
    })
})

describe("npm run sim argument checks", () => {
    const sim = (...args: string[]) =>
        spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "sim", "cli.ts"), join(ROOT, "sim", "scenarios", "v2h-setpoint.json"), ...args], {
            cwd: ROOT,
            encoding: "utf8",
        })

    it.each([
        [["--broker", "mqtt://127.0.0.1:1", "--speed", "max"], /--broker needs --speed realtime/],
        [["--mqtt-prefix", "x"], /--mqtt-prefix needs --broker/],
        [["--broker", "ftp://h"], /--broker \/ --mqtt-prefix: "ftp:"/],
    ])("%j exits 2 naming the problem", (args, why) => {
        const r = sim(...args)
        expect(r.status).toBe(2)
        expect(r.stderr).toMatch(why)
    })
})
