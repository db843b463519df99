// docs/config.md is generated from devs.schema.json (npm run gen:docs): the committed file must be
// what the generator renders today, and every key must have something to say.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { CONFIG_DOC, configRows, renderConfigDoc } from "../../scripts/lib/config-docs"
import { DEVS_JSON, DEVS_SCHEMA } from "../../scripts/lib/devs-config"

const schema = JSON.parse(readFileSync(DEVS_SCHEMA, "utf8"))
const config = JSON.parse(readFileSync(DEVS_JSON, "utf8"))

describe("docs/config.md", () => {
    it("is up to date with devs.schema.json and devs.json (run `npm run gen:docs` if not)", () => {
        expect(readFileSync(CONFIG_DOC, "utf8")).toBe(renderConfigDoc())
    })

    it("describes every key of devs.json, with its shipped value", () => {
        const rows = configRows(schema, config)
        expect(rows.filter(r => !r.description).map(r => r.key)).toEqual([])
        const keys = new Set(rows.map(r => r.key))
        const leaves: string[] = []
        const walk = (v: any, key: string) => {
            if (Array.isArray(v)) leaves.push(key)
            else if (v && typeof v === "object") for (const k of Object.keys(v)) k !== "$schema" && walk(v[k], key ? `${key}.${k}` : k)
            else leaves.push(key)
        }
        walk(config, "")
        expect(leaves.filter(k => !keys.has(k))).toEqual([])
        expect(rows.find(r => r.key === "outlets.budgetPowerW")).toMatchObject({ value: "`1500`", range: "> 0 and <= 10 000" })
    })

    it("follows a schema change: shared shapes are resolved, ranges and descriptions come from the schema", () => {
        const edited = structuredClone(schema)
        edited.definitions.settablePct.properties.minPct.description = "CHANGED"
        edited.properties.grid.properties.overVoltage.items.properties.pu.maximum = 1.5
        const text = renderConfigDoc(edited, config)
        expect(text).toContain("| `v2h.reserve.minPct` | number | `10` | 0 .. 100 | CHANGED |")
        expect(text).toContain("| `grid.overVoltage[].pu` | number |  | 1 .. 1.5 |")
        expect(text).not.toBe(renderConfigDoc())
    })
})
