// The Home Assistant discovery configs (src/core/hems/ha-discovery.ts) are what docs/home-assistant.md
// tells the user appears: the table "What appears" (component, name, value and command template,
// class, unit, state class, range, settings category) row by row, and the example config of
// "The configs" byte for byte. The names, units and classes are what the user sees in Home
// Assistant and what the Energy panel needs; the docs are the contract.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { V2H_MODES } from "../../src/core/hems/command"
import { haConfig, haConfigCount, type HaConfigInput, type HaContext } from "../../src/core/hems/ha-discovery"

const DOC = readFileSync(new URL("../../docs/home-assistant.md", import.meta.url), "utf8")
const ID = "c0ffee00c0ffee01"
const ctx = (cfg: HaConfigInput = DEVS, over: Partial<HaContext> = {}): HaContext => ({
    cfg,
    discoveryPrefix: "homeassistant",
    topicPrefix: `charger/${ID}`,
    deviceId: ID,
    swVersion: "3bbd195abcde",
    ...over,
})
const withOutlets = (count: number): HaConfigInput => ({ ...DEVS, outlets: { ...DEVS.outlets, count, highPriorityOutlet: 1 } })

interface Row {
    component: string
    name: string
    valTpl: string
    cmdTpl: string
    classes: string
}

/** The table of "What appears", one row per entity, the outlet rows expanded outlet by outlet for `count` outlets. */
function documentedRows(count: number): Row[] {
    const lines = DOC.split("\n")
    const head = lines.findIndex(l => l.startsWith("| component | name | value template |"))
    expect(head).toBeGreaterThan(0)
    const rows: Row[] = []
    const perOutlet: Row[] = []
    for (let i = head + 2; i < lines.length && lines[i].startsWith("|"); i++) {
        const cells = lines[i]
            .slice(1, -1)
            .split("|")
            .map(c => c.trim())
        expect(cells, lines[i]).toHaveLength(5)
        const unquote = (c: string) => (c.startsWith("`") && c.endsWith("`") ? c.slice(1, -1) : c)
        const row = { component: unquote(cells[0]), name: cells[1], valTpl: unquote(cells[2]), cmdTpl: unquote(cells[3]), classes: cells[4] }
        if (row.name.includes("*n*")) perOutlet.push(row)
        else rows.push(row)
    }
    // The per-outlet rows, outlet by outlet.
    for (let n = 1; n <= count; n++)
        for (const row of perOutlet) rows.push({ ...row, name: row.name.replace("*n*", "" + n), valTpl: row.valTpl.replace("n-1", "" + (n - 1)) })
    return rows
}

/** The documented range of a number: "±`v2h.ratedPowerW`" or "`v2h.reserve` range". */
function documentedRange(classes: string, cfg: HaConfigInput): [number, number] {
    const ref = /`([a-zA-Z0-9.]+)`/.exec(classes)![1]
    const v: any = ref.split(".").reduce((o: any, k) => o[k], cfg)
    return classes.includes("±") ? [-v, v] : [v.minPct, v.maxPct]
}

function checkAgainstDocs(cfg: HaConfigInput) {
    const rows = documentedRows(cfg.outlets.count)
    const configs = Array.from({ length: haConfigCount(cfg) }, (_, i) => haConfig(i, ctx(cfg)))
    expect(configs.map(c => JSON.parse(c.payload).name)).toEqual(rows.map(r => r.name))
    configs.forEach((c, i) => {
        const row = rows[i]
        const body = JSON.parse(c.payload)
        const where = `${row.name}: ${c.payload}`
        expect(c.topic.split("/")[1], where).toBe(row.component)
        expect(body.val_tpl, where).toBe(row.valTpl)
        // Exactly the selects and numbers command, through <prefix>/cmd.
        expect(body.cmd_tpl, where).toBe(row.cmdTpl || undefined)
        expect(body.cmd_t, where).toBe(row.cmdTpl ? "~/cmd" : undefined)
        // "(config)": under the device's settings, not on its dashboard.
        expect(body.ent_cat, where).toBe(row.classes.includes("(config)") ? "config" : undefined)
        const plain = row.classes.replace(/\(.*\)/, "").trim()
        if (row.component === "sensor") {
            const [devCla, unit, statCla] = plain ? plain.split(", ") : []
            expect([body.dev_cla, body.unit_of_meas, body.stat_cla], where).toEqual([devCla, unit, statCla])
        } else if (row.component === "binary_sensor") {
            expect(body.dev_cla, where).toBe(plain)
        } else if (row.component === "number") {
            const [min, max] = documentedRange(row.classes, cfg)
            const step = /step (\d+)/.exec(row.classes)
            expect({ unit: body.unit_of_meas, min: body.min, max: body.max, step: body.step, mode: body.mode }, where).toEqual({
                unit: plain.split(",")[0],
                min,
                max,
                step: step ? Number(step[1]) : 1,
                mode: "box",
            })
        } else {
            expect(row.component).toBe("select")
            const want = row.classes.includes("V2H_MODES") ? V2H_MODES : Array.from({ length: cfg.outlets.count }, (_, k) => "" + (k + 1))
            expect(body.ops, where).toEqual(want)
        }
        if (row.component !== "number") for (const k of ["min", "max", "step", "mode"]) expect(body[k], `${where}: ${k}`).toBeUndefined()
    })
}

describe("Home Assistant configs as docs/home-assistant.md documents them", () => {
    for (const count of [1, 2, 4])
        it(`every entity of the table, in its order, with its templates, classes and range (${count} outlet(s))`, () => {
            checkAgainstDocs(withOutlets(count))
        })

    it("ranges follow devs.json", () => {
        checkAgainstDocs({
            ...DEVS,
            v2h: { ...DEVS.v2h, ratedPowerW: 3500, reserve: { defaultPct: 20, minPct: 5, maxPct: 60 }, chargeLimit: { defaultPct: 80, minPct: 65, maxPct: 95 } },
            socFloor: { ...DEVS.socFloor, minPct: 15, maxPct: 70 },
        })
    })

    it("the example config of the docs is the setpoint number's, byte for byte", () => {
        const at = DOC.indexOf("```json\n", DOC.indexOf("## The configs"))
        const example = DOC.slice(at + 8, DOC.indexOf("```", at + 8))
            .split("\n")
            .map(l => l.trim())
            .join("")
        const c = haConfig(12, ctx())
        expect(c.payload).toBe(example)
        expect(c.topic).toBe(`homeassistant/number/${ID}/setpoint/config`)
    })

    it("the config topic of the docs' removal example is the SoC sensor's", () => {
        expect(DOC).toContain("homeassistant/sensor/<device id>/soc/config")
        expect(haConfig(0, ctx()).topic).toBe(`homeassistant/sensor/${ID}/soc/config`)
    })
})
