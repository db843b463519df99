// Loads and validates devs.json (the charger's ratings and limits) against devs.schema.json,
// then applies the cross-field rules a JSON Schema cannot express. Every error names the file,
// the JSON path of the bad key and the offending value; nothing is half-applied: either the whole
// file is valid or the caller gets every error at once.
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import Ajv, { type ErrorObject } from "ajv"

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
const ajv = new Ajv({ allErrors: true, strict: true })
const validateSchema = ajv.compile(schema)

function show(value: unknown): string {
    return value === undefined ? "undefined" : JSON.stringify(value)
}

/** The value at a JSON pointer ("/a/b/0"), or undefined. */
export function valueAt(root: unknown, pointer: string): unknown {
    let node: any = root
    for (const part of pointer.split("/").slice(1)) {
        if (node === null || typeof node !== "object") return undefined
        node = node[part.replace(/~1/g, "/").replace(/~0/g, "~")]
    }
    return node
}

function describeError(root: unknown, e: ErrorObject): string {
    const path = e.instancePath || "/"
    switch (e.keyword) {
        case "additionalProperties": {
            const key = (e.params as any).additionalProperty as string
            const allowed = Object.keys(valueAt(schema, schemaPointerFor(e)) ?? {})
            return `${path === "/" ? "" : path}/${key}: unknown key${allowed.length ? ` (allowed: ${allowed.join(", ")})` : ""}`
        }
        case "required":
            return `${path === "/" ? "" : path}/${(e.params as any).missingProperty}: required key is missing`
        default:
            return `${path} = ${show(valueAt(root, e.instancePath))}: ${e.message}`
    }
}

// For "additionalProperties" errors, point at the sibling "properties" object of the schema.
function schemaPointerFor(e: ErrorObject): string {
    return e.schemaPath.replace(/^#/, "").replace(/\/additionalProperties$/, "/properties")
}

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
    return out
}

/** Validates a parsed devs.json-shaped object; throws ConfigError listing every problem. */
export function validateDevsConfig(value: unknown, source = "devs.json"): DevsJson {
    if (!validateSchema(value)) {
        const problems = (validateSchema.errors ?? []).map(e => describeError(value, e))
        throw new ConfigError(source, [...new Set(problems)])
    }
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
    let parsed: unknown
    try {
        parsed = JSON.parse(text)
    } catch (err: any) {
        throw new ConfigError(path, [`not valid JSON: ${err.message}`])
    }
    return validateDevsConfig(parsed, path)
}

/** The validated file. Its typed view for code is the generated module src/config/devs.gen.ts. */
export type DevsJson = Record<string, any>
