// Home Assistant discovery at build time: the templates rendered from the core's configs
// (scripts/lib/ha-templates.ts -> src/config/ha.gen.ts), filled as the firmware fills them
// (src/core/hems/ha-template.ts), give exactly the topic and payload the core builds
// (src/core/hems/ha-discovery.ts, THE definition), for any context the firmware can meet and
// for every outlet count devs.json allows; and the generated module is what the generator gives
// for devs.json today.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { loadDevsConfig } from "../../scripts/lib/devs-config"
import { HA_MODULE, packHaTemplates, renderHaModule, unpackHaTemplates } from "../../scripts/lib/ha-templates"
import { DEVS } from "../../src/config/devs.gen"
import { HA_TEMPLATES } from "../../src/config/ha.gen"
import { haConfig, haConfigCount, type HaConfigInput, type HaContext } from "../../src/core/hems/ha-discovery"
import { fillHaTemplate, haConfigAt, haTemplateValues, HA_MARK } from "../../src/core/hems/ha-template"
import { MAX_PREFIX_CHARS } from "../../src/core/hems/mqtt-settings"

const withOutlets = (count: number): HaConfigInput => ({ ...DEVS, outlets: { ...DEVS.outlets, count, highPriorityOutlet: 1 } })
const core = (ctx: HaContext) => Array.from({ length: haConfigCount(ctx.cfg) }, (_, i) => haConfig(i, ctx))
const filled = (ctx: HaContext) =>
    unpackHaTemplates(packHaTemplates(ctx.cfg), haTemplateValues(ctx.discoveryPrefix, ctx.topicPrefix, ctx.deviceId, ctx.swVersion))

/** What the firmware meets (valid prefixes, a 16-hex-digit id, a commit) and what it should never meet but must still escape. */
const CONTEXTS: Omit<HaContext, "cfg">[] = [
    { discoveryPrefix: "homeassistant", topicPrefix: "charger/c0ffee00c0ffee01", deviceId: "c0ffee00c0ffee01", swVersion: "0123456789ab" },
    { discoveryPrefix: "p".repeat(MAX_PREFIX_CHARS), topicPrefix: "a/b-c/d_e/" + "9".repeat(MAX_PREFIX_CHARS - 10), deviceId: "0000000000000000", swVersion: "0123456789ab-dirty" },
    { discoveryPrefix: "ha", topicPrefix: "x", deviceId: "ab", swVersion: "unknown" },
    { discoveryPrefix: 'h"a', topicPrefix: 'pre\\fix"', deviceId: 'id"\\', swVersion: '"\\' },
    { discoveryPrefix: "\\", topicPrefix: '"', deviceId: "", swVersion: "" },
    { discoveryPrefix: "tab\there\nline", topicPrefix: "\u0000\u001f\u007f", deviceId: "é€😀", swVersion: "\u2028\u2029" },
    { discoveryPrefix: HA_MARK + "2", topicPrefix: HA_MARK + "0" + HA_MARK, deviceId: HA_MARK + "1", swVersion: "{{ value }}~/%" },
]

describe("Home Assistant discovery templates (src/config/ha.gen.ts)", () => {
    for (const count of [1, 2, 3, 4]) {
        it(`filled, equal the core's configs exactly, topic and payload, with ${count} outlet(s), for every context`, () => {
            const cfg = withOutlets(count)
            for (const c of CONTEXTS) {
                const ctx = { cfg, ...c }
                const want = core(ctx)
                expect(want.length).toBe(17 + 2 * count)
                expect(filled(ctx)).toEqual(want)
            }
        })
    }

    it("follow the other build-time numbers too (rated power, ranges, model)", () => {
        const cfg: HaConfigInput = {
            ...DEVS,
            v2h: { ...DEVS.v2h, ratedPowerW: 3500, reserve: { ...DEVS.v2h.reserve, minPct: 5, maxPct: 95 } },
            mqtt: { ...DEVS.mqtt, homeAssistant: { ...DEVS.mqtt.homeAssistant, model: 'M "1" \\ é', manufacturer: "{{ x }}" } },
        }
        const ctx = { cfg, ...CONTEXTS[0] }
        expect(filled(ctx)).toEqual(core(ctx))
        expect(JSON.parse(filled(ctx)[12].payload)).toMatchObject({ min: -3500, max: 3500 })
    })

    it("the firmware's walk: one config per call from offset 0, null after the last", () => {
        const values = haTemplateValues("homeassistant", "charger/x", "c0ffee00c0ffee01", "v1")
        let c = haConfigAt(HA_TEMPLATES, 0, values)
        let n = 0
        while (c) {
            n++
            c = haConfigAt(HA_TEMPLATES, c.next, values)
        }
        expect(n).toBe(haConfigCount(DEVS))
        expect(haConfigAt(HA_TEMPLATES, HA_TEMPLATES.length, values)).toBeNull()
    })

    it("filling never scans a value again, and escapes only in payloads", () => {
        const values = [HA_MARK + "1", 'q"', "id", "", "v"]
        const fill = (t: string, json: boolean) => fillHaTemplate(t, 0, t.length, values, json)
        expect(fill(`a${HA_MARK}0b${HA_MARK}1c${HA_MARK}0`, false)).toBe(`a${HA_MARK}1bq"c${HA_MARK}1`)
        expect(fill(`"${HA_MARK}1"`, true)).toBe('"q\\""')
        expect(fill("no placeholder", true)).toBe("no placeholder")
        // A part of a longer text: placeholders outside [from, to) are left alone.
        const t = `${HA_MARK}0[x${HA_MARK}2y]${HA_MARK}1`
        expect(fillHaTemplate(t, 2, t.length - 2, values, false)).toBe("[xidy]")
    })

    it("the generator refuses fixed text it cannot keep apart from the placeholders", () => {
        const cfg = { ...DEVS, mqtt: { ...DEVS.mqtt, homeAssistant: { ...DEVS.mqtt.homeAssistant, model: "M\ue010" } } }
        expect(() => packHaTemplates(cfg)).toThrow(/private-use character/)
    })

    it("the generated module is what the generator renders from devs.json today (npm run gen:config writes it)", () => {
        expect(readFileSync(HA_MODULE, "utf8")).toBe(renderHaModule(loadDevsConfig()))
        expect(HA_TEMPLATES).toBe(packHaTemplates(DEVS))
    })
})
