// Validates a parsed scenario and normalises it (types: types.ts). Same contract as devs.json
// (scripts/lib/devs-config.ts), with the same formatter (scripts/lib/schema-errors.ts): every
// problem names the file, the JSON path of the bad key, the offending value and why; all problems
// are collected and thrown at once in a ScenarioError; nothing is half-applied.
//
// The schema checks shapes and ranges. This module adds what a JSON Schema cannot say clearly or
// at all: exactly one action per event and one check per expectation (with a message naming them),
// times within duration_s, outlet numbers within the config's outlets.count, grid_v/grid_hz only
// with grid "up", and the config override deep-merged onto devs.json and validated as a whole.
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { ValidateFunction } from "ajv"
import { ConfigError, loadDevsConfig, validateDevsConfig } from "../../scripts/lib/devs-config"
import { describeSchemaErrors, schemaAjv, schemaProblems, showValue } from "../../scripts/lib/schema-errors"
import { mergePlantParams } from "../plant/plant"
import type { DevsConfig } from "../../src/config/devs.gen"
import {
    EVENT_ACTIONS,
    EXPECTATION_CHECKS,
    ScenarioError,
    outletOf,
    type Expectation,
    type GridEvent,
    type Scenario,
    type ScenarioEvent,
    type TraceColumn,
    type ValidateOptions,
} from "./types"

export const SCENARIO_SCHEMA = join(dirname(fileURLToPath(import.meta.url)), "scenario.schema.json")

const schema = JSON.parse(readFileSync(SCENARIO_SCHEMA, "utf8"))
const SCHEMA_ID: string = schema.$id
const ajv = schemaAjv()
ajv.addSchema(schema)

const validateTop = ajv.getSchema(SCHEMA_ID) as ValidateFunction
const definition = (name: string) => ajv.getSchema(`${SCHEMA_ID}#/definitions/${name}`) as ValidateFunction

/** Lenient view for an item whose action/check count is wrong: every key of every form, each with its own rule. */
function unionOf(forms: string[], required: string[]): ValidateFunction {
    const properties: Record<string, object> = {}
    for (const form of forms)
        for (const key of Object.keys(schema.definitions[form].properties))
            properties[key] ??= { $ref: `${SCHEMA_ID}#/definitions/${form}/properties/${key}` }
    return ajv.compile({ type: "object", additionalProperties: false, required, properties })
}

const eventForms = new Map<string, ValidateFunction>(EVENT_ACTIONS.map(a => [a, definition(`event_${a}`)]))
const expectationForms = new Map<string, ValidateFunction>(EXPECTATION_CHECKS.map(c => [c, definition(`expect_${c}`)]))
const anyEvent = unionOf(EVENT_ACTIONS.map(a => `event_${a}`), ["at_s"])
const anyExpectation = unionOf(EXPECTATION_CHECKS.map(c => `expect_${c}`), [])

const list = (xs: readonly string[]) => (xs.length < 2 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`)

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v)
const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k)
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v)

/** Objects merge key by key; anything else in the override replaces the base value. */
function deepMerge(base: unknown, override: unknown): unknown {
    if (!isObject(base) || !isObject(override)) return structuredClone(override)
    const out: Record<string, unknown> = structuredClone(base)
    for (const key of Object.keys(override)) {
        // defineProperty: a "__proto__" key stays a plain (unknown, hence reported) key.
        Object.defineProperty(out, key, {
            value: has(out, key) ? deepMerge(out[key], override[key]) : structuredClone(override[key]),
            enumerable: true,
            writable: true,
            configurable: true,
        })
    }
    return out
}

/** Validates a parsed scenario and returns it normalised; throws ScenarioError listing every problem. */
export function validateScenario(value: unknown, file: string, options: ValidateOptions = {}): Scenario {
    // The base config is not the scenario's to fix: a broken devs.json throws its own ConfigError.
    const base =
        options.baseConfig === undefined ? loadDevsConfig() : validateDevsConfig(structuredClone(options.baseConfig), "base config")

    if (!isObject(value)) throw new ScenarioError(file, [`/ = ${showValue(value)}: must be object`])
    const problems: string[] = []

    // 1. Shapes and ranges of everything but the event / expectation items, which get their own messages below.
    if (!validateTop(value)) {
        const itemError = /^\/(events|expect)\/\d+(\/|$)/
        const errors = (validateTop.errors ?? []).filter(e => !itemError.test(e.instancePath))
        problems.push(...describeSchemaErrors(value, errors))
    }
    const durationS = isNumber(value.duration_s) && value.duration_s > 0 ? (value.duration_s as number) : undefined

    // 2. Config: the override merged onto devs.json must be a valid devs.json.
    let config: DevsConfig | undefined
    if (!has(value, "config")) config = stripSchema(base)
    else if (isObject(value.config)) {
        try {
            config = stripSchema(validateDevsConfig(deepMerge(base, value.config), "config"))
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err
            problems.push(...err.problems.map(p => (p.startsWith("/") ? `/config${p}` : `/config: ${p}`)))
        }
    }
    const outletCount: number | undefined = config?.outlets.count
    const schemaMaxOutlet: number = schema.definitions.outlet.maximum
    const notConfigured = (n: number) => `outlet ${n} is not configured (config outlets.count = ${outletCount})`
    // Only numbers the schema accepts: an outlet 5 is already reported as "must be <= 4".
    const checkOutlet = (n: unknown, path: string) => {
        if (outletCount !== undefined && Number.isInteger(n) && (n as number) <= schemaMaxOutlet && (n as number) > outletCount)
            problems.push(`${path} = ${n}: ${notConfigured(n as number)}`)
    }
    /** A fault name or column of an outlet (outlet3_w) names a configured one; others are the schema's to judge. */
    const checkOutletName = (name: unknown, path: string) => {
        const n = typeof name === "string" ? outletOf(name) : undefined
        if (outletCount !== undefined && n !== undefined && n > outletCount && n <= schemaMaxOutlet)
            problems.push(`${path} = ${JSON.stringify(name)}: ${notConfigured(n)}`)
    }
    const checkTime = (t: unknown, path: string) => {
        if (durationS !== undefined && isNumber(t) && t > durationS) problems.push(`${path} = ${t}: must be <= duration_s (${durationS})`)
    }

    // 3. Events.
    const events: ScenarioEvent[] = []
    const rawEvents: unknown[] = Array.isArray(value.events) ? value.events : []
    rawEvents.forEach((ev, i) => {
        const path = `/events/${i}`
        const before = problems.length
        if (!isObject(ev)) {
            problems.push(`${path} = ${showValue(ev)}: must be object`)
            return
        }
        const actions = Object.keys(ev).filter(k => (EVENT_ACTIONS as readonly string[]).includes(k))
        if (actions.length === 1) problems.push(...schemaProblems(eventForms.get(actions[0]), ev, path))
        else {
            problems.push(
                actions.length === 0
                    ? `${path}: no action (expected exactly one of: ${EVENT_ACTIONS.join(", ")})`
                    : `${path}: exactly one action expected, found ${list(actions)}`,
            )
            problems.push(...schemaProblems(anyEvent, ev, path))
        }
        checkTime(ev.at_s, `${path}/at_s`)
        if (has(ev, "outlet")) checkOutlet(ev.outlet, `${path}/outlet`)
        for (const k of ["fault", "clear_fault"]) if (has(ev, k)) checkOutletName(ev[k], `${path}/${k}`)
        if (isObject(ev.hems) && has(ev.hems, "outlet_priority")) checkOutlet(ev.hems.outlet_priority, `${path}/hems/outlet_priority`)
        if (ev.grid === "down")
            for (const k of ["grid_v", "grid_hz"]) if (has(ev, k)) problems.push(`${path}/${k}: only allowed when grid is "up"`)
        if (problems.length === before) events.push(normaliseEvent(ev, i))
    })

    // 4. Expectations.
    const expectations: Expectation[] = []
    const rawExpect: unknown[] = Array.isArray(value.expect) ? value.expect : []
    rawExpect.forEach((ex, i) => {
        const path = `/expect/${i}`
        const before = problems.length
        if (!isObject(ex)) {
            problems.push(`${path} = ${showValue(ex)}: must be object`)
            return
        }
        const checks = Object.keys(ex).filter(k => (EXPECTATION_CHECKS as readonly string[]).includes(k))
        if (checks.length === 1) problems.push(...schemaProblems(expectationForms.get(checks[0]), ex, path))
        else {
            problems.push(
                checks.length === 0
                    ? `${path}: no check (expected exactly one of: ${EXPECTATION_CHECKS.join(", ")})`
                    : `${path}: exactly one check expected, found ${list(checks)}`,
            )
            problems.push(...schemaProblems(anyExpectation, ex, path))
        }
        checkTime(ex.from_s, `${path}/from_s`)
        checkTime(ex.to_s, `${path}/to_s`)
        checkTime(ex.by_s, `${path}/by_s`)
        if (isNumber(ex.from_s) && isNumber(ex.to_s) && ex.from_s > ex.to_s)
            problems.push(`${path}/from_s = ${ex.from_s}: must be <= to_s (${ex.to_s})`)
        const pair = (key: string, order: string) => {
            const v = ex[key]
            if (Array.isArray(v) && v.length === 2 && isNumber(v[0]) && isNumber(v[1]) && v[0] > v[1])
                problems.push(`${path}/${key} = ${showValue(v)}: ${order}`)
        }
        pair("between_s", "from must be <= to")
        pair("mean_between", "low must be <= high")
        if (Array.isArray(ex.between_s)) checkTime(ex.between_s[1], `${path}/between_s/1`)
        if (isObject(ex.trip) && has(ex.trip, "outlet")) checkOutlet(ex.trip.outlet, `${path}/trip/outlet`)
        if (has(ex, "column")) checkOutletName(ex.column, `${path}/column`)
        if (problems.length === before && durationS !== undefined) expectations.push(normaliseExpectation(ex, i, durationS))
    })

    // The plant overrides name real parameters of the simulator's plant models (checked once
    // their shape is right).
    if (isObject(value.plant) && !problems.some(p => p.startsWith("/plant"))) {
        problems.push(...mergePlantParams(value.plant).problems)
        // The plant has as many outlets as the firmware is configured for.
        const count = isObject(value.plant.outlets) ? value.plant.outlets.count : undefined
        if (count !== undefined && outletCount !== undefined && count !== outletCount)
            problems.push(`/plant/outlets/count = ${showValue(count)}: must equal config outlets.count (${outletCount}); leave it out, the plant follows the config`)
    }

    if (problems.length) throw new ScenarioError(file, [...new Set(problems)])

    // 5. Everything is valid: fill defaults.
    const initial = value.initial ?? {}
    return {
        file,
        name: value.name,
        description: value.description ?? "",
        durationS: value.duration_s,
        seed: value.seed ?? 1,
        traceIntervalMs: value.trace_interval_ms ?? 100,
        config,
        configOverride: structuredClone(value.config ?? {}),
        plant: structuredClone(value.plant ?? {}),
        initial: {
            socPct: initial.soc_pct ?? 80,
            houseW: initial.house_w ?? 500,
            pvW: initial.pv_w ?? 0,
            gridUp: initial.grid_up ?? true,
            tempC: initial.temp_c ?? 25,
            outletSwitchOn: (initial.outlet_switch ?? "on") === "on",
            timeOfDayS: timeOfDayS(initial.time_of_day ?? "00:00"),
        },
        // Array.prototype.sort is stable: equal times keep file order.
        events: events.sort((a, b) => a.atS - b.atS),
        expectations,
    }
}

function timeOfDayS(hhmm: string): number {
    return Number(hhmm.slice(0, 2)) * 3600 + Number(hhmm.slice(3, 5)) * 60
}

function stripSchema(c: Record<string, any>): DevsConfig {
    const { $schema, ...rest } = c
    return rest as DevsConfig
}

/** Only called on an event that passed validation. */
function normaliseEvent(ev: Record<string, any>, index: number): ScenarioEvent {
    const atS: number = ev.at_s
    if (has(ev, "outlet"))
        return { kind: "outlet_load", atS, index, outlet: ev.outlet, loadW: ev.load_w, inrushW: ev.inrush_w ?? 0, inrushS: ev.inrush_s ?? 0 }
    if (has(ev, "outlet_switch")) return { kind: "outlet_switch", atS, index, on: ev.outlet_switch === "on" }
    if (has(ev, "hems")) return { kind: "hems", atS, index, command: structuredClone(ev.hems), json: JSON.stringify(ev.hems) }
    if (has(ev, "house_w")) return { kind: "house", atS, index, w: ev.house_w }
    if (has(ev, "pv_w")) return { kind: "pv", atS, index, w: ev.pv_w }
    if (has(ev, "temp_c")) return { kind: "temp", atS, index, tempC: ev.temp_c }
    if (has(ev, "grid")) {
        const g: GridEvent = { kind: "grid", atS, index, up: ev.grid === "up" }
        if (has(ev, "grid_v")) g.voltageV = ev.grid_v
        if (has(ev, "grid_hz")) g.frequencyHz = ev.grid_hz
        return g
    }
    if (has(ev, "inverter_temp_c")) return { kind: "inverter_temp", atS, index, tempC: ev.inverter_temp_c }
    if (has(ev, "reset_faults")) return { kind: "reset_faults", atS, index }
    if (has(ev, "firmware_restart")) return { kind: "firmware_restart", atS, index }
    if (has(ev, "fault")) return { kind: "fault", atS, index, fault: ev.fault, active: true }
    return { kind: "fault", atS, index, fault: ev.clear_fault, active: false }
}

/** Only called on an expectation that passed validation. */
function normaliseExpectation(ex: Record<string, any>, index: number, durationS: number): Expectation {
    const fromS: number = ex.from_s ?? 0
    const toS: number = ex.to_s ?? durationS
    const over = `over ${fromS}..${toS} s`
    const named = (generated: string) => (typeof ex.name === "string" ? ex.name : generated)
    const c: TraceColumn = ex.column
    if (has(ex, "max_le")) return { kind: "max_le", index, name: named(`${c} <= ${ex.max_le} ${over}`), column: c, fromS, toS, max: ex.max_le }
    if (has(ex, "min_ge")) return { kind: "min_ge", index, name: named(`${c} >= ${ex.min_ge} ${over}`), column: c, fromS, toS, min: ex.min_ge }
    if (has(ex, "always_eq"))
        return { kind: "always_eq", index, name: named(`${c} == ${showValue(ex.always_eq)} ${over}`), column: c, fromS, toS, value: ex.always_eq }
    if (has(ex, "final_eq"))
        return { kind: "final_eq", index, name: named(`${c} == ${showValue(ex.final_eq)} at ${toS} s`), column: c, fromS, toS, value: ex.final_eq }
    if (has(ex, "mean_between")) {
        const [lo, hi] = ex.mean_between
        return { kind: "mean_between", index, name: named(`mean ${c} in ${lo}..${hi} ${over}`), column: c, fromS, toS, lo, hi }
    }
    if (has(ex, "reaches"))
        return { kind: "reaches", index, name: named(`${c} reaches ${showValue(ex.reaches)} by ${ex.by_s} s`), column: c, value: ex.reaches, byS: ex.by_s }
    if (has(ex, "trip")) {
        const [lo, hi] = ex.between_s
        const { outlet, reason } = ex.trip
        return { kind: "trip", index, name: named(`outlet ${outlet} trips (${reason}) within ${lo}..${hi} s`), outlet, reason, fromS: lo, toS: hi }
    }
    return { kind: "no_trip", index, name: named(`no trip ${over}`), fromS, toS }
}

