// The one formatter of JSON Schema errors, shared by devs.json (scripts/lib/devs-config.ts) and the
// simulator's scenario files (sim/scenario/validate.ts). Every problem comes out as one line naming
// the JSON path of the bad key, the offending value and the rule ("/outlets/count = 7: must be <=
// 4"), unknown keys with the keys that are allowed, missing keys with the condition that makes
// them required. It also locates JSON syntax errors (line and column), which Node 20's JSON.parse
// does not always report.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv"

/**
 * An ajv instance for the formatter: every error at once, strict schemas, and `verbose` (errors
 * carry their schema and parent schema, which the messages below draw on).
 */
export function schemaAjv(): Ajv {
    return new Ajv({ allErrors: true, strict: true, verbose: true })
}

/** A value as it appears in a message: JSON, shortened past 60 characters; NaN/Infinity stay visible. */
export function showValue(value: unknown): string {
    if (value === undefined) return "undefined"
    if (typeof value === "number" && !Number.isFinite(value)) return String(value) // JSON would say null
    const s = JSON.stringify(value)
    return s.length > 60 ? s.slice(0, 57) + "..." : s
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

const keyPath = (path: string, key: string) => `${path}/${key}`

/**
 * Turns ajv errors (from a `schemaAjv()` validator) into "PATH = VALUE: why" lines; `prefix` is
 * the JSON path of `root` in its file.
 */
export function describeSchemaErrors(root: unknown, errors: ErrorObject[], prefix = ""): string[] {
    const out: string[] = []
    // Sub-errors of an anyOf of plain types are summed up by the anyOf's own line.
    const dropped = new Set<ErrorObject>()
    for (const e of errors) {
        if (e.keyword !== "anyOf") continue
        for (const sub of errors)
            if (sub !== e && sub.instancePath === e.instancePath && (e.schema as object[]).includes(sub.parentSchema as object))
                dropped.add(sub)
    }
    // A "then" that failed: its required keys are reported with the "if" condition; the "if" line itself is dropped.
    const conditions = new Map<ErrorObject, string>()
    for (const e of errors) {
        if (e.keyword !== "if") continue
        dropped.add(e)
        const parent = e.parentSchema as any
        const when = Object.entries(parent.if?.properties ?? {})
            .map(([k, s]: [string, any]) => ("const" in s ? `${k} is ${JSON.stringify(s.const)}` : k))
            .join(" and ")
        for (const sub of errors)
            if (sub.keyword === "required" && sub.instancePath === e.instancePath && sub.parentSchema === parent.then)
                conditions.set(sub, when)
    }
    for (const e of errors) {
        if (dropped.has(e)) continue
        const path = prefix + e.instancePath
        const params = e.params as any
        switch (e.keyword) {
            case "additionalProperties": {
                const allowed = Object.keys((e.parentSchema as any).properties ?? {})
                out.push(`${keyPath(path, params.additionalProperty)}: unknown key${allowed.length ? ` (allowed: ${allowed.join(", ")})` : ""}`)
                break
            }
            case "required": {
                const when = conditions.get(e)
                out.push(`${keyPath(path, params.missingProperty)}: ${when ? `required when ${when}` : "required key is missing"}`)
                break
            }
            case "dependencies":
                out.push(`${keyPath(path, params.missingProperty)}: required when ${params.property} is given`)
                break
            default:
                out.push(`${path || "/"} = ${showValue(valueAt(root, e.instancePath))}: ${message(e)}`)
        }
    }
    return [...new Set(out)]
}

function message(e: ErrorObject): string {
    const params = e.params as any
    switch (e.keyword) {
        case "enum":
            return `must be one of ${(params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(", ")}`
        case "const":
            return `must be ${JSON.stringify(params.allowedValue)}`
        case "anyOf": {
            const types = (e.schema as any[]).map(s => (Object.keys(s).length === 1 ? s.type : undefined))
            return types.every(t => typeof t === "string") ? `must be ${types.join(" or ")}` : (e.message ?? "")
        }
        default:
            return e.message ?? ""
    }
}

/** The problems of `value` against `validate` (a `schemaAjv()` validator), [] when it is valid. */
export function schemaProblems(validate: ValidateFunction, value: unknown, prefix = ""): string[] {
    return validate(value) ? [] : describeSchemaErrors(value, validate.errors ?? [], prefix)
}

/** "line L, column C" of a character offset. */
export function lineColumn(text: string, offset: number): string {
    const before = text.slice(0, offset).split("\n")
    return `line ${before.length}, column ${before[before.length - 1].length + 1}`
}

/** JSON.parse with the problem located: "not valid JSON at line 3, column 7: <parser message>". */
export function parseJsonText(text: string): { value: unknown } | { problem: string } {
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1) // editors on bench PCs like to add a BOM
    try {
        return { value: JSON.parse(text) }
    } catch (err: any) {
        const at = jsonErrorOffset(text)
        const where = at === undefined ? "" : ` at ${lineColumn(text, at)}`
        return { problem: `not valid JSON${where}: ${err.message}` }
    }
}

/**
 * Offset of the first JSON syntax error in `text` (undefined if none is found). Node 20's
 * JSON.parse messages do not always carry a position ("Unexpected token '}', ... is not valid
 * JSON"), so a small strict scanner finds it.
 */
export function jsonErrorOffset(text: string): number | undefined {
    let i = 0
    const fail = (): never => {
        throw i
    }
    const ws = () => {
        while (i < text.length && " \t\n\r".includes(text[i])) i++
    }
    const expect = (ch: string) => (text[i] === ch ? i++ : fail())
    const string = (): void => {
        expect('"')
        while (i < text.length) {
            const ch = text[i]
            if (ch === '"') return void i++
            if (ch < " ") fail()
            if (ch === "\\") {
                i++
                if (text[i] === "u") {
                    if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail()
                    i += 5
                } else if ('"\\/bfnrt'.includes(text[i] ?? "x")) i++
                else fail()
            } else i++
        }
        fail()
    }
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
    const value = (): void => {
        ws()
        const ch = text[i]
        if (ch === "{" || ch === "[") {
            const close = ch === "{" ? "}" : "]"
            i++
            ws()
            if (text[i] === close) return void i++
            for (;;) {
                if (ch === "{") {
                    ws()
                    string()
                    ws()
                    expect(":")
                }
                value()
                ws()
                if (text[i] === ",") i++
                else return void expect(close)
            }
        }
        if (ch === '"') return string()
        for (const literal of ["true", "false", "null"]) if (text.startsWith(literal, i)) return void (i += literal.length)
        number.lastIndex = i
        if (number.test(text)) return void (i = number.lastIndex)
        fail()
    }
    try {
        value()
        ws()
        if (i < text.length) fail()
        return undefined
    } catch (at) {
        return typeof at === "number" ? at : undefined
    }
}
