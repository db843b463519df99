import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { ConfigError, DEVS_JSON, ROOT, loadDevsConfig, validateDevsConfig } from "../../scripts/lib/devs-config"
import { DEVS } from "../../src/config/devs.gen"

const shipped = () => JSON.parse(readFileSync(DEVS_JSON, "utf8"))

function problemsOf(mutate: (c: any) => void): string[] {
    const c = shipped()
    mutate(c)
    try {
        validateDevsConfig(c)
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError)
        return (err as ConfigError).problems
    }
    return []
}

describe("devs.json validation", () => {
    it("accepts the shipped devs.json, and the generated module matches it", () => {
        const { $schema, ...body } = loadDevsConfig()
        expect(DEVS).toEqual(body)
    })

    it("names an unknown key and lists the allowed ones", () => {
        const p = problemsOf(c => (c.outlets.budgetPowrW = 1500))
        expect(p).toHaveLength(1)
        expect(p[0]).toContain("/outlets/budgetPowrW: unknown key")
        expect(p[0]).toContain("budgetPowerW")
    })

    it("names an unknown top-level key", () => {
        expect(problemsOf(c => (c.v2g = {}))).toEqual([expect.stringContaining("/v2g: unknown key")])
    })

    it("names the key and the bad value for out-of-range and wrong-type values", () => {
        expect(problemsOf(c => (c.outlets.budgetPowerW = -5))).toEqual(["/outlets/budgetPowerW = -5: must be > 0"])
        expect(problemsOf(c => (c.ticks.protectionMs = "20"))).toEqual(['/ticks/protectionMs = "20": must be integer'])
        expect(problemsOf(c => (c.socFloor.maxPct = 120))).toEqual(["/socFloor/maxPct = 120: must be <= 100"])
    })

    it("shared shapes (definitions) keep the messages of the place they are used", () => {
        expect(problemsOf(c => (c.v2h.reserve.minPct = 120))).toEqual(["/v2h/reserve/minPct = 120: must be <= 100"])
        expect(problemsOf(c => (c.v2h.chargeLimit.maxPtc = 90))).toEqual(["/v2h/chargeLimit/maxPtc: unknown key (allowed: defaultPct, minPct, maxPct)"])
        expect(problemsOf(c => delete c.v2h.chargeLimit.defaultPct)).toEqual(["/v2h/chargeLimit/defaultPct: required key is missing"])
        expect(problemsOf(c => (c.grid.overVoltage[0].pu = 0.5))).toEqual(["/grid/overVoltage/0/pu = 0.5: must be >= 1"])
        expect(problemsOf(c => (c.grid.underVoltage[0].pu = 1.5))).toEqual(["/grid/underVoltage/0/pu = 1.5: must be <= 1"])
        expect(problemsOf(c => (c.grid.underFrequency[0].hz = 75))).toEqual(["/grid/underFrequency/0/hz = 75: must be <= 70"])
        expect(problemsOf(c => (c.grid.overFrequency[1].clearMs = -1))).toEqual(["/grid/overFrequency/1/clearMs = -1: must be >= 0"])
        expect(problemsOf(c => (c.grid.overFrequency[0].pu = 1.1))).toEqual(["/grid/overFrequency/0/pu: unknown key (allowed: hz, clearMs)"])
    })

    it("lists the allowed values of an enum", () => {
        expect(problemsOf(c => (c.v2h.localMode = "turbo"))).toEqual([
            '/v2h/localMode = "turbo": must be one of "idle", "self_consumption", "pv_surplus", "schedule"',
        ])
    })

    it("names a missing key", () => {
        expect(problemsOf(c => delete c.tripCurve.instantRatio)).toEqual([
            "/tripCurve/instantRatio: required key is missing",
        ])
    })

    it("reports every problem at once", () => {
        const p = problemsOf(c => {
            c.outlets.budgetCurrentA = 0
            c.tripCurve.inrushMaxMs = 1.5
        })
        expect(p).toEqual([
            "/outlets/budgetCurrentA = 0: must be > 0",
            "/tripCurve/inrushMaxMs = 1.5: must be integer",
            "/tripCurve/inrushMaxMs = 1.5: must be >= 50",
        ])
    })

    it.each([
        [(c: any) => (c.tripCurve.inrushRatio = 1.05), "/tripCurve/inrushRatio = 1.05: must be greater than sustainedRatio (1.1)"],
        [(c: any) => (c.tripCurve.instantRatio = 1.5), "/tripCurve/instantRatio = 1.5: must be greater than inrushRatio (2)"],
        [(c: any) => (c.outlets.highPriorityOutlet = 3), "/outlets/highPriorityOutlet = 3: there are only 2 outlets"],
        [(c: any) => (c.socFloor.defaultPct = 95), "/socFloor/defaultPct = 95: must lie within minPct..maxPct (10..90)"],
        [(c: any) => Object.assign(c.socFloor, { minPct: 50, maxPct: 50, defaultPct: 50 }), "/socFloor/minPct = 50: must be below maxPct (50)"],
        [(c: any) => (c.ticks.supervisoryMs = 100) && (c.ticks.protectionMs = 100), "/ticks/protectionMs = 100: must be <= 50"],
        [(c: any) => (c.ticks.supervisoryMs = 100), undefined],
    ])("applies cross-field rule %#", (mutate, message) => {
        expect(problemsOf(mutate)).toEqual(message ? [message] : [])
    })

    it("gives a clear error for a file that is not JSON", () => {
        const dir = mkdtempSync(join(tmpdir(), "devs-"))
        const f = join(dir, "devs.json")
        writeFileSync(f, "{ not json")
        expect(() => loadDevsConfig(f)).toThrow(/devs\.json is invalid:\n {2}- not valid JSON at line 1, column 3/)
    })

    it("gen-config exits 1 and names the file, key and value; it leaves the generated modules alone", () => {
        const dir = mkdtempSync(join(tmpdir(), "devs-"))
        const c = shipped()
        c.outlets.budgetPowerW = 0
        const f = join(dir, "devs.json")
        writeFileSync(f, JSON.stringify(c))
        const gen = join(ROOT, "src", "config", "devs.gen.ts")
        const before = readFileSync(gen, "utf8")
        const ha = join(ROOT, "src", "config", "ha.gen.ts")
        const haBefore = readFileSync(ha, "utf8")
        const res = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "gen-config.ts"), "--config", f], {
            encoding: "utf8",
        })
        expect(res.status).toBe(1)
        expect(res.stderr).toContain(f)
        expect(res.stderr).toContain("/outlets/budgetPowerW = 0: must be > 0")
        expect(readFileSync(gen, "utf8")).toBe(before)
        expect(readFileSync(ha, "utf8")).toBe(haBefore)
    })
})
