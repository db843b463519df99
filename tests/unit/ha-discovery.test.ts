// Home Assistant discovery configs (src/core/hems/ha-discovery.ts) against Home Assistant's
// discovery rules (tests/helpers/ha-schema.ts), the firmware's topic tree and the size bound;
// their value templates against the status document the controller really produces, and their
// command templates against the one command validator. The same checks run on the configs the
// firmware publishes to a real broker in tests/sim/ha-discovery.test.ts.
import nunjucks from "nunjucks"
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { Controller } from "../../src/core/controller"
import { EnergyCounter } from "../../src/core/persist"
import { parseCommand } from "../../src/core/hems/command"
import { haConfig, haConfigCount, type HaContext } from "../../src/core/hems/ha-discovery"
import { haBirthTopic } from "../../src/core/hems/ha-template"
import { MAX_PREFIX_CHARS, mqttTopics } from "../../src/core/hems/mqtt-settings"
import { expandTilde, haConfigProblems } from "../helpers/ha-schema"

const ID = "c0ffee00c0ffee01"
const ctx = (over: Partial<HaContext> = {}): HaContext => ({
    cfg: DEVS,
    discoveryPrefix: "homeassistant",
    topicPrefix: `charger/${ID}`,
    deviceId: ID,
    swVersion: "0123456789ab",
    ...over,
})
const all = (c: HaContext) => Array.from({ length: haConfigCount(c.cfg) }, (_, i) => haConfig(i, c))
const MAX = DEVS.mqtt.homeAssistant.maxConfigBytes
const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true })

describe("Home Assistant discovery configs", () => {
    it("every config follows Home Assistant's discovery rules, points at the firmware's topics and stays within the size bound", () => {
        const c = ctx()
        const configs = all(c)
        expect(configs.length).toBe(17 + 2 * DEVS.outlets.count)
        expect(haConfigProblems(configs, "homeassistant", mqttTopics(c.topicPrefix), MAX)).toEqual([])
    })

    it("the longest prefixes the settings accept still fit the bound", () => {
        const long = "p".repeat(MAX_PREFIX_CHARS)
        const c = ctx({ discoveryPrefix: long, topicPrefix: "c".repeat(MAX_PREFIX_CHARS), swVersion: "0123456789ab-dirty" })
        const configs = all(c)
        expect(haConfigProblems(configs, long, mqttTopics(c.topicPrefix), MAX)).toEqual([])
        const largest = Math.max(...configs.map(x => Buffer.byteLength(x.topic) + Buffer.byteLength(x.payload)))
        console.log(`largest discovery config with 64-character prefixes: ${largest} bytes (bound ${MAX})`)
    })

    it("the checker refuses what Home Assistant would: missing keys, unknown abbreviations, duplicates, foreign topics, oversize", () => {
        const c = ctx()
        const topics = mqttTopics(c.topicPrefix)
        const good = haConfig(0, c)
        const bad = (edit: (b: any) => void, topic = good.topic) => {
            const b = JSON.parse(good.payload)
            edit(b)
            return haConfigProblems([{ topic, payload: JSON.stringify(b) }], "homeassistant", topics, MAX)
        }
        expect(bad(b => delete b.stat_t).join()).toMatch(/stat_t/)
        expect(bad(b => (b.state_tpic = "x")).join()).toMatch(/propertyNames|must be equal to one of/)
        expect(bad(b => (b.stat_t = "~/telemetry")).join()).toMatch(/not the firmware's/)
        expect(bad(b => delete b.dev.sw).join()).toMatch(/sw/)
        expect(bad(b => (b.dev_cla = "energy")).join()).toMatch(/stat_cla|unit_of_meas|total_increasing/)
        expect(bad(b => (b.name = "x".repeat(MAX)))).toEqual([expect.stringMatching(/over the bound/)])
        expect(bad(() => {}, "homeassistant/sensor/a b/config").join()).toMatch(/not a discovery topic/)
        expect(haConfigProblems([good, good], "homeassistant", topics, MAX).join()).toMatch(/twice/)
        const other = haConfig(1, c)
        const dup = { topic: other.topic, payload: JSON.stringify({ ...JSON.parse(other.payload), uniq_id: JSON.parse(good.payload).uniq_id }) }
        expect(haConfigProblems([good, dup], "homeassistant", topics, MAX).join()).toMatch(/unique id .* also used/)
    })

    it("every value template reads a key the status document has, and renders a value from it", () => {
        const controller = new Controller(DEVS)
        ;(controller as any).energy = new EnergyCounter([1234.9, 56.2, 7.8])
        // Measurements are null until the first readings (Home Assistant shows them as unknown);
        // filled here so the render below also catches a key path that does not exist.
        const status = JSON.parse(JSON.stringify(controller.statusJson(1000), (_, x) => (x === null ? 0 : x)))
        for (const cfg of all(ctx())) {
            const body = JSON.parse(cfg.payload)
            const path = /value_json\.([a-z_]+)(\[\d+\])?(\.[a-z_]+)?/.exec(body.val_tpl)
            expect(path, body.val_tpl).not.toBeNull()
            expect(status, `${cfg.topic}: ${path![1]}`).toHaveProperty(path![1])
            // throwOnUndefined: a key missing from the status fails the render.
            const out = env.renderString(body.val_tpl, { value_json: status, value: JSON.stringify(status) })
            expect(typeof out).toBe("string")
        }
        const v = (id: string) => {
            const cfg = all(ctx()).find(c => c.topic.endsWith(`/${id}/config`))!
            return env.renderString(JSON.parse(cfg.payload).val_tpl, { value_json: status })
        }
        expect(v("energy_discharged")).toBe("1234")
        expect(v("energy_outlets")).toBe("7")
        expect(v("outlet1")).toBe("OFF")
        expect(v("v2h_mode")).toBe(status.mode)
        expect(v("reserve")).toBe(String(DEVS.v2h.reserve.defaultPct))
    })

    it("every command template, rendered with a value in range, is a command the validator accepts; out of range, it refuses", () => {
        const commanded = all(ctx())
            .map(c => ({ topic: c.topic, body: JSON.parse(c.payload) }))
            .filter(c => c.body.cmd_tpl)
        expect(commanded.map(c => c.body.uniq_id.slice(ID.length + 1)).sort()).toEqual(["charge_limit", "outlet_priority", "reserve", "setpoint", "soc_floor", "v2h_mode"])
        for (const { topic, body } of commanded) {
            const values: unknown[] = body.ops ?? [body.min, body.max, Math.round((body.min + body.max) / 2)]
            for (const value of values) {
                const cmd = env.renderString(body.cmd_tpl, { value })
                expect(parseCommand(cmd, DEVS).error, `${topic}: ${cmd}`).toBe("")
            }
            if (!body.ops) {
                const cmd = env.renderString(body.cmd_tpl, { value: body.max + 1 })
                expect(parseCommand(cmd, DEVS).error, `${topic}: ${cmd}`).toMatch(/out of range/)
            }
        }
    })

    it("no entity can reset a trip or a fault: no buttons or switches, no command naming a reset or a clear", () => {
        for (const c of all(ctx())) {
            expect(c.topic).not.toMatch(/\/(button|switch)\//)
            expect(c.payload).not.toMatch(/reset|clear/i)
        }
    })

    it("availability, state and command topics use the charger's prefix through '~'; the birth topic is <discovery prefix>/status", () => {
        const body = JSON.parse(haConfig(12, ctx({ topicPrefix: "site/ev-1" })).payload)
        expect(expandTilde(body.stat_t, body["~"])).toBe("site/ev-1/status")
        expect(expandTilde(body.cmd_t, body["~"])).toBe("site/ev-1/cmd")
        expect(expandTilde(body.avty_t, body["~"])).toBe("site/ev-1/status/online")
        expect(haBirthTopic("homeassistant")).toBe("homeassistant/status")
    })
})
