// Loads and validates devs.json (the charger's ratings and limits) against devs.schema.json,
// then applies the cross-field rules a JSON Schema cannot express. Every error names the file,
// the JSON path of the bad key, the offending value and the rule (the formatter is shared with the
// scenario files: schema-errors.ts); nothing is half-applied: either the whole file is valid or
// the caller gets every error at once.
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseJsonText, schemaAjv, schemaProblems } from "./schema-errors"

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
export const DEVS_JSON = join(ROOT, "devs.json")
export const DEVS_SCHEMA = join(ROOT, "devs.schema.json")

export class ConfigError extends Error {
    constructor(readonly source: string, readonly problems: string[]) {
        super(`${source} is invalid:\n` + problems.map(p => `  - ${p}`).join("\n"))
        this.name = "ConfigError"
    }
}

const schema = JSON.parse(readFileSync(DEVS_SCHEMA, "utf8"))
const validateSchema = schemaAjv().compile(schema)

/** Semantic rules between fields. Returns problems as "path = value: why". */
function crossChecks(c: any): string[] {
    const out: string[] = []
    const t = c.tripCurve, o = c.outlets, s = c.socFloor, k = c.ticks
    if (!(t.sustainedRatio < t.inrushRatio))
        out.push(`/tripCurve/inrushRatio = ${t.inrushRatio}: must be greater than sustainedRatio (${t.sustainedRatio})`)
    if (!(t.inrushRatio < t.instantRatio))
        out.push(`/tripCurve/instantRatio = ${t.instantRatio}: must be greater than inrushRatio (${t.inrushRatio})`)
    if (!(k.protectionMs < k.supervisoryMs))
        out.push(`/ticks/protectionMs = ${k.protectionMs}: must be shorter than supervisoryMs (${k.supervisoryMs})`)
    if (o.highPriorityOutlet > o.count)
        out.push(`/outlets/highPriorityOutlet = ${o.highPriorityOutlet}: there are only ${o.count} outlets`)
    if (!(s.minPct < s.maxPct))
        out.push(`/socFloor/minPct = ${s.minPct}: must be below maxPct (${s.maxPct})`)
    if (s.defaultPct < s.minPct || s.defaultPct > s.maxPct)
        out.push(`/socFloor/defaultPct = ${s.defaultPct}: must lie within minPct..maxPct (${s.minPct}..${s.maxPct})`)
    out.push(...v2hChecks(c.v2h), ...gridChecks(c.grid), ...mqttChecks(c.mqtt))
    const ps = c.powerStage
    if (!(ps.commandTimeoutMs >= 2 * ps.keepaliveMs))
        out.push(`/powerStage/commandTimeoutMs = ${ps.commandTimeoutMs}: must be at least twice keepaliveMs (${ps.keepaliveMs}), so that one lost keepalive does not stop the inverter`)
    if (!(ps.keepaliveMs >= k.v2hMs))
        out.push(`/powerStage/keepaliveMs = ${ps.keepaliveMs}: must not be shorter than the V2H tick (ticks.v2hMs = ${k.v2hMs}), which sends it`)
    return out
}

function mqttChecks(m: any): string[] {
    const out: string[] = []
    if (!(m.backoffMinMs <= m.backoffMaxMs))
        out.push(`/mqtt/backoffMinMs = ${m.backoffMinMs}: must not exceed backoffMaxMs (${m.backoffMaxMs})`)
    for (const [path, p] of [["/mqtt/defaultPrefix", m.defaultPrefix], ["/mqtt/homeAssistant/defaultPrefix", m.homeAssistant.defaultPrefix]] as [string, string][]) {
        const bad = [...p].find(ch => !/[A-Za-z0-9_\-\/]/.test(ch))
        if (bad !== undefined) out.push(`${path} = ${JSON.stringify(p)}: character ${JSON.stringify(bad)} not allowed (letters, digits, -, _, /)`)
        else if (p.startsWith("/") || p.endsWith("/") || p.includes("//"))
            out.push(`${path} = ${JSON.stringify(p)}: no empty topic level (no leading, trailing or double /)`)
    }
    return out
}

function rangeChecks(r: any, path: string): string[] {
    const out: string[] = []
    if (!(r.minPct < r.maxPct)) out.push(`${path}/minPct = ${r.minPct}: must be below maxPct (${r.maxPct})`)
    if (r.defaultPct < r.minPct || r.defaultPct > r.maxPct)
        out.push(`${path}/defaultPct = ${r.defaultPct}: must lie within minPct..maxPct (${r.minPct}..${r.maxPct})`)
    return out
}

function v2hChecks(v: any): string[] {
    const out = [...rangeChecks(v.reserve, "/v2h/reserve"), ...rangeChecks(v.chargeLimit, "/v2h/chargeLimit")]
    if (!(v.reserve.defaultPct < v.chargeLimit.defaultPct))
        out.push(`/v2h/reserve/defaultPct = ${v.reserve.defaultPct}: must be below chargeLimit/defaultPct (${v.chargeLimit.defaultPct})`)
    const d = v.derating
    if (!(d.startC < d.stopC)) out.push(`/v2h/derating/startC = ${d.startC}: must be below stopC (${d.stopC})`)
    if (!(d.resumeBelowC < d.stopC)) out.push(`/v2h/derating/resumeBelowC = ${d.resumeBelowC}: must be below stopC (${d.stopC})`)
    if (Math.abs(v.fallbackSetpointW) > v.ratedPowerW)
        out.push(`/v2h/fallbackSetpointW = ${v.fallbackSetpointW}: must lie within +-ratedPowerW (${v.ratedPowerW})`)
    if (v.backup.islandedLimitW > v.ratedPowerW)
        out.push(`/v2h/backup/islandedLimitW = ${v.backup.islandedLimitW}: must not exceed ratedPowerW (${v.ratedPowerW})`)
    if (!(v.pvSurplus.stopSurplusW < v.pvSurplus.startSurplusW))
        out.push(`/v2h/pvSurplus/stopSurplusW = ${v.pvSurplus.stopSurplusW}: must be below startSurplusW (${v.pvSurplus.startSurplusW}) (hysteresis)`)
    v.schedule.forEach((w: any, i: number) => {
        if (w.from === w.to) out.push(`/v2h/schedule/${i}/to = "${w.to}": must differ from "from" (an empty or 24 h window is ambiguous)`)
        if (Math.abs(w.powerW) > v.ratedPowerW) out.push(`/v2h/schedule/${i}/powerW = ${w.powerW}: must lie within +-ratedPowerW (${v.ratedPowerW})`)
    })
    return out
}

function gridChecks(g: any): string[] {
    const out: string[] = []
    g.overVoltage.forEach((t: any, i: number) => {
        if (!(t.pu > 1)) out.push(`/grid/overVoltage/${i}/pu = ${t.pu}: must be above 1.0`)
    })
    g.underVoltage.forEach((t: any, i: number) => {
        if (!(t.pu < 1)) out.push(`/grid/underVoltage/${i}/pu = ${t.pu}: must be below 1.0`)
        if (!(t.pu > g.lossOfGrid.belowPu)) out.push(`/grid/underVoltage/${i}/pu = ${t.pu}: must be above lossOfGrid/belowPu (${g.lossOfGrid.belowPu})`)
    })
    g.overFrequency.forEach((t: any, i: number) => {
        if (!(t.hz > g.nominalFrequencyHz)) out.push(`/grid/overFrequency/${i}/hz = ${t.hz}: must be above nominalFrequencyHz (${g.nominalFrequencyHz})`)
    })
    g.underFrequency.forEach((t: any, i: number) => {
        if (!(t.hz < g.nominalFrequencyHz)) out.push(`/grid/underFrequency/${i}/hz = ${t.hz}: must be below nominalFrequencyHz (${g.nominalFrequencyHz})`)
    })
    const e = g.enterService
    if (!(e.minHz < g.nominalFrequencyHz && g.nominalFrequencyHz < e.maxHz))
        out.push(`/grid/enterService/minHz = ${e.minHz}: the window minHz..maxHz (${e.minHz}..${e.maxHz}) must contain nominalFrequencyHz (${g.nominalFrequencyHz})`)
    return out
}

/** Validates a parsed devs.json-shaped object; throws ConfigError listing every problem. */
export function validateDevsConfig(value: unknown, source = "devs.json"): DevsJson {
    const shape = schemaProblems(validateSchema, value)
    if (shape.length) throw new ConfigError(source, shape)
    const problems = crossChecks(value)
    if (problems.length) throw new ConfigError(source, problems)
    return value as DevsJson
}

/** Reads and validates a devs.json file; JSON syntax errors are reported with the file name. */
export function loadDevsConfig(path = DEVS_JSON): DevsJson {
    let text: string
    try {
        text = readFileSync(path, "utf8")
    } catch (err: any) {
        throw new ConfigError(path, [`cannot read file: ${err.message}`])
    }
    const parsed = parseJsonText(text)
    if ("problem" in parsed) throw new ConfigError(path, [parsed.problem])
    return validateDevsConfig(parsed.value, path)
}

/** The validated file. Its typed view for code is the generated module src/config/devs.gen.ts. */
export type DevsJson = Record<string, any>

/**
 * A TypeScript type for a JSON value (numbers, strings, booleans, arrays, objects), indented: the
 * type the generated module declares, as `typeof` an object literal would infer it.
 */
export function jsonType(v: unknown, indent = ""): string {
    if (Array.isArray(v)) return v.length ? `${jsonType(v[0], indent)}[]` : "unknown[]"
    if (v === null) return "null"
    if (typeof v === "object") {
        const inner = indent + "    "
        const lines = Object.entries(v as object).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${jsonType(x, inner)}`)
        return `{\n${lines.join("\n")}\n${indent}}`
    }
    return typeof v
}

/**
 * A generated module exporting `value` as `name` (of the declared type `typeName`), held as a JSON
 * text parsed at start-up: DeviceScript compiles an object literal into one store instruction per
 * key in the image's code section, limited to 64 KiB (docs/boards.md, "Build and bytecode
 * budget"), while a string goes to the data section. The price is the keys on the heap as strings
 * (about 2.5 KB of the 64 KB heap for devs.json), affordable since the MQTT link decodes received
 * data as it arrives (docs/mqtt-robustness.md); lists of keys and values cost more code than the
 * literal.
 */
export function renderJsonModule(header: string[], name: string, typeName: string, value: object): string {
    return [
        ...header,
        "",
        `export type ${typeName} = ${jsonType(value)}`,
        "",
        `export const ${name}: ${typeName} = JSON.parse(${JSON.stringify(JSON.stringify(value))})`,
        "",
    ].join("\n")
}

/** The firmware's build-time copy of a (validated) config: the text of src/config/devs.gen.ts. */
export function renderDevsModule(cfg: object): string {
    const { $schema, ...body } = cfg as any
    return renderJsonModule(
        [
            "// GENERATED by scripts/gen-config.ts from devs.json. Do not edit:",
            "// change devs.json and run `npm run gen:config` (npm install/build/test do it too).",
        ],
        "DEVS",
        "DevsConfig",
        body,
    )
}
