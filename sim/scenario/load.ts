// Loads and validates simulator / hardware-in-the-loop scenario files (format: README.md next to
// this file, schema: scenario.schema.json). Same contract as scripts/lib/devs-config.ts: every
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
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv"
import { ConfigError, loadDevsConfig, validateDevsConfig, valueAt } from "../../scripts/lib/devs-config"
import { mergePlantParams } from "../plant/plant"
import { OUTLET_REASONS, type OutletReason } from "../../src/core/outlet-protection"
import type { DevsConfig } from "../../src/config/devs.gen"

export const SCENARIO_SCHEMA = join(dirname(fileURLToPath(import.meta.url)), "scenario.schema.json")

// ---------------------------------------------------------------------------------------------
// Types of the normalised scenario
// ---------------------------------------------------------------------------------------------

export const FAULT_NAMES = [
    "outlet1_meter_stale",
    "outlet2_meter_stale",
    "battery_stale",
    "outlet1_relay_welded",
    "outlet2_relay_welded",
    "contactor_welded",
    "grid_relay_welded",
    "estop",
    "inverter_stale",
    "grid_meter_stale",
] as const
export type FaultName = (typeof FAULT_NAMES)[number]

export const TRACE_COLUMNS = [
    "t_s",
    "soc_pct",
    "outlet1_demand_w",
    "outlet2_demand_w",
    "outlet1_w",
    "outlet2_w",
    "outlet1_on",
    "outlet2_on",
    "outlet1_reason",
    "outlet2_reason",
    "alarm",
    "buzzer",
    "thermal_level",
    "load_ratio",
    "v2h_request_w",
    "v2h_command_w",
    "inverter_w",
    "house_w",
    "pv_w",
    "grid_w",
    "grid_up",
    "temp_c",
    "v2h_mode",
    "v2h_target_w",
    "limit_reason",
    "contactor_closed",
    "grid_relay_closed",
    "house_islanded",
    "outlet_supply_on",
    "inverter_ceased",
    "unserved_w",
    "state",
    "fault",
    "injected_faults",
] as const
export type TraceColumn = (typeof TRACE_COLUMNS)[number]

export const HEMS_MODES = ["setpoint", "idle", "self_consumption", "pv_surplus", "schedule"] as const
export type HemsMode = (typeof HEMS_MODES)[number]

/** Reasons a protection "trip" event can carry: the latching ones of the firmware core's list. */
export type TripReason = Extract<OutletReason, `overload_${string}` | "shed">
export const TRIP_REASONS: readonly TripReason[] = OUTLET_REASONS.filter(
    (r): r is TripReason => r.startsWith("overload_") || r === "shed",
)

/** Event action keys, in schema order; each event has exactly one. */
export const EVENT_ACTIONS = ["outlet", "outlet_switch", "hems", "house_w", "pv_w", "temp_c", "grid", "fault", "clear_fault", "inverter_temp_c", "reset_faults", "firmware_restart"] as const
export type EventAction = (typeof EVENT_ACTIONS)[number]

/** Expectation check keys, in schema order; each expectation has exactly one. */
export const EXPECTATION_CHECKS = ["max_le", "min_ge", "always_eq", "final_eq", "mean_between", "reaches", "trip", "no_trip"] as const
export type ExpectationCheck = (typeof EXPECTATION_CHECKS)[number]

/** 1-based accessory-outlet number. */
export type OutletNumber = 1 | 2

/** A HEMS command as the firmware will accept it (camelCase view of the scenario's `hems` object). */
export interface HemsCommand {
    mode?: HemsMode
    /** Inverter power setpoint; present whenever mode is "setpoint". */
    setpointW?: number
    socFloorPct?: number
    reservePct?: number
    chargeLimitPct?: number
    outletPriority?: OutletNumber
}

interface EventBase {
    /** Simulated time of the event, seconds from the start. */
    atS: number
    /** Position of the event in the file's `events` array (for messages: /events/<index>). */
    index: number
}
/** An appliance drawing loadW on an outlet; inrushW for the first inrushS seconds (both 0: no inrush). */
export interface OutletLoadEvent extends EventBase {
    kind: "outlet_load"
    outlet: OutletNumber
    loadW: number
    inrushW: number
    inrushS: number
}
/** The outlet main switch turned on or off. */
export interface OutletSwitchEvent extends EventBase {
    kind: "outlet_switch"
    on: boolean
}
export interface HemsEvent extends EventBase {
    kind: "hems"
    command: HemsCommand
    /** The command as JSON text, exactly as the scenario wrote it: what the firmware receives. */
    json: string
}
/** The inverter's temperature is set to tempC at once. */
export interface InverterTempEvent extends EventBase {
    kind: "inverter_temp"
    tempC: number
}
/** The local clear-faults action. */
export interface ResetFaultsEvent extends EventBase {
    kind: "reset_faults"
}
/** The controller restarts (watchdog, panic, power blip): the program starts again from flash. */
export interface RestartEvent extends EventBase {
    kind: "firmware_restart"
}
/** House consumption becomes w. */
export interface HouseEvent extends EventBase {
    kind: "house"
    w: number
}
/** PV production becomes w. */
export interface PvEvent extends EventBase {
    kind: "pv"
    w: number
}
/** Ambient temperature becomes tempC. */
export interface TempEvent extends EventBase {
    kind: "temp"
    tempC: number
}
/** Grid goes up (optionally at voltageV / frequencyHz) or down. */
export interface GridEvent extends EventBase {
    kind: "grid"
    up: boolean
    voltageV?: number
    frequencyHz?: number
}
/** A fault is injected (active) or cleared (!active). */
export interface FaultEvent extends EventBase {
    kind: "fault"
    fault: FaultName
    active: boolean
}
export type ScenarioEvent =
    | OutletLoadEvent
    | OutletSwitchEvent
    | HemsEvent
    | HouseEvent
    | PvEvent
    | TempEvent
    | GridEvent
    | FaultEvent
    | InverterTempEvent
    | ResetFaultsEvent
    | RestartEvent

interface ExpectationBase {
    /** The file's `name`, or a generated description such as "outlet1_w <= 1500 over 0..600 s". */
    name: string
    /** Position in the file's `expect` array. */
    index: number
}
/** A check on the samples of `column` with fromS <= t_s <= toS (defaults: 0 and durationS). */
interface WindowedColumnExpectation extends ExpectationBase {
    column: TraceColumn
    fromS: number
    toS: number
}
export interface MaxLeExpectation extends WindowedColumnExpectation {
    kind: "max_le"
    max: number
}
export interface MinGeExpectation extends WindowedColumnExpectation {
    kind: "min_ge"
    min: number
}
export interface AlwaysEqExpectation extends WindowedColumnExpectation {
    kind: "always_eq"
    value: number | string
}
/** The last sample at or before toS equals value. */
export interface FinalEqExpectation extends WindowedColumnExpectation {
    kind: "final_eq"
    value: number | string
}
export interface MeanBetweenExpectation extends WindowedColumnExpectation {
    kind: "mean_between"
    lo: number
    hi: number
}
/** `column` equals value at some sample with t_s <= byS. */
export interface ReachesExpectation extends ExpectationBase {
    kind: "reaches"
    column: TraceColumn
    value: number | string
    byS: number
}
/** `outlet` trips with `reason` at some time in [fromS, toS]. */
export interface TripExpectation extends ExpectationBase {
    kind: "trip"
    outlet: OutletNumber
    reason: TripReason
    fromS: number
    toS: number
}
/** No outlet trips in [fromS, toS]. */
export interface NoTripExpectation extends ExpectationBase {
    kind: "no_trip"
    fromS: number
    toS: number
}
export type Expectation =
    | MaxLeExpectation
    | MinGeExpectation
    | AlwaysEqExpectation
    | FinalEqExpectation
    | MeanBetweenExpectation
    | ReachesExpectation
    | TripExpectation
    | NoTripExpectation

export interface InitialState {
    socPct: number
    houseW: number
    pvW: number
    gridUp: boolean
    tempC: number
    /** The outlet main switch. */
    outletSwitchOn: boolean
    /** Local time of day at t = 0, seconds since midnight. */
    timeOfDayS: number
}

/** Plant-model parameter overrides: { model: { parameter: value } }, passed through as written. */
export type PlantOverrides = Record<string, Record<string, number | boolean>>

export interface Scenario {
    /** The file the scenario came from (as given to loadScenario / validateScenario). */
    file: string
    name: string
    /** "" when absent. */
    description: string
    durationS: number
    seed: number
    traceIntervalMs: number
    /** devs.json with the scenario's override merged in, validated (without "$schema"). */
    config: DevsConfig
    /** The override as written ({} when absent). */
    configOverride: Record<string, unknown>
    plant: PlantOverrides
    initial: InitialState
    /** Sorted by atS; events with equal atS keep their file order. */
    events: ScenarioEvent[]
    /** In file order. */
    expectations: Expectation[]
}

export class ScenarioError extends Error {
    constructor(readonly file: string, readonly problems: string[]) {
        super(`${file} is invalid:\n` + problems.map(p => `  - ${p}`).join("\n"))
        this.name = "ScenarioError"
    }
}

export interface ValidateOptions {
    /** devs.json-shaped base the `config` override is merged onto; default: the repository's devs.json. */
    baseConfig?: unknown
}

// ---------------------------------------------------------------------------------------------
// Schema and error messages
// ---------------------------------------------------------------------------------------------

const schema = JSON.parse(readFileSync(SCENARIO_SCHEMA, "utf8"))
const SCHEMA_ID: string = schema.$id
// verbose: errors carry the schema and parent schema, which the messages below draw on.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true })
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

function show(value: unknown): string {
    if (value === undefined) return "undefined"
    if (typeof value === "number" && !Number.isFinite(value)) return String(value) // JSON would say null
    const s = JSON.stringify(value)
    return s.length > 60 ? s.slice(0, 57) + "..." : s
}


const keyPath = (path: string, key: string) => `${path}/${key}`
const list = (xs: readonly string[]) => (xs.length < 2 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`)

/** Turns ajv errors into "PATH = VALUE: why" lines; `prefix` is the JSON path of `root` in the file. */
function describeErrors(root: unknown, errors: ErrorObject[], prefix = ""): string[] {
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
                out.push(`${path || "/"} = ${show(valueAt(root, e.instancePath))}: ${message(e)}`)
        }
    }
    return out
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
            return types.every(t => typeof t === "string") ? `must be ${types.join(" or ")}` : e.message
        }
        default:
            return e.message
    }
}

function schemaProblems(validate: ValidateFunction, value: unknown, prefix: string): string[] {
    return validate(value) ? [] : describeErrors(value, validate.errors ?? [], prefix)
}

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

    if (!isObject(value)) throw new ScenarioError(file, [`/ = ${show(value)}: must be object`])
    const problems: string[] = []

    // 1. Shapes and ranges of everything but the event / expectation items, which get their own messages below.
    if (!validateTop(value)) {
        const itemError = /^\/(events|expect)\/\d+(\/|$)/
        const errors = (validateTop.errors ?? []).filter(e => !itemError.test(e.instancePath))
        problems.push(...describeErrors(value, errors))
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
    // Only numbers the schema accepts: an outlet 3 is already reported as "must be <= 2".
    const checkOutlet = (n: unknown, path: string) => {
        if (outletCount !== undefined && Number.isInteger(n) && (n as number) <= schemaMaxOutlet && (n as number) > outletCount)
            problems.push(`${path} = ${n}: must be <= config outlets.count (${outletCount})`)
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
            problems.push(`${path} = ${show(ev)}: must be object`)
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
            problems.push(`${path} = ${show(ex)}: must be object`)
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
                problems.push(`${path}/${key} = ${show(v)}: ${order}`)
        }
        pair("between_s", "from must be <= to")
        pair("mean_between", "low must be <= high")
        if (Array.isArray(ex.between_s)) checkTime(ex.between_s[1], `${path}/between_s/1`)
        if (isObject(ex.trip) && has(ex.trip, "outlet")) checkOutlet(ex.trip.outlet, `${path}/trip/outlet`)
        if (problems.length === before && durationS !== undefined) expectations.push(normaliseExpectation(ex, i, durationS))
    })

    // The plant overrides name real parameters of the simulator's plant models (checked once
    // their shape is right).
    if (isObject(value.plant) && !problems.some(p => p.startsWith("/plant")))
        problems.push(...mergePlantParams(value.plant).problems)

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
    if (has(ev, "hems")) {
        const h = ev.hems
        const command: HemsCommand = {}
        if (has(h, "mode")) command.mode = h.mode
        if (has(h, "setpoint_w")) command.setpointW = h.setpoint_w
        if (has(h, "soc_floor_pct")) command.socFloorPct = h.soc_floor_pct
        if (has(h, "reserve_pct")) command.reservePct = h.reserve_pct
        if (has(h, "charge_limit_pct")) command.chargeLimitPct = h.charge_limit_pct
        if (has(h, "outlet_priority")) command.outletPriority = h.outlet_priority
        return { kind: "hems", atS, index, command, json: JSON.stringify(h) }
    }
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
        return { kind: "always_eq", index, name: named(`${c} == ${show(ex.always_eq)} ${over}`), column: c, fromS, toS, value: ex.always_eq }
    if (has(ex, "final_eq"))
        return { kind: "final_eq", index, name: named(`${c} == ${show(ex.final_eq)} at ${toS} s`), column: c, fromS, toS, value: ex.final_eq }
    if (has(ex, "mean_between")) {
        const [lo, hi] = ex.mean_between
        return { kind: "mean_between", index, name: named(`mean ${c} in ${lo}..${hi} ${over}`), column: c, fromS, toS, lo, hi }
    }
    if (has(ex, "reaches"))
        return { kind: "reaches", index, name: named(`${c} reaches ${show(ex.reaches)} by ${ex.by_s} s`), column: c, value: ex.reaches, byS: ex.by_s }
    if (has(ex, "trip")) {
        const [lo, hi] = ex.between_s
        const { outlet, reason } = ex.trip
        return { kind: "trip", index, name: named(`outlet ${outlet} trips (${reason}) within ${lo}..${hi} s`), outlet, reason, fromS: lo, toS: hi }
    }
    return { kind: "no_trip", index, name: named(`no trip ${over}`), fromS, toS }
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** Reads, parses and validates a scenario file. Unreadable files and JSON syntax errors are ScenarioErrors too. */
export function loadScenario(path: string, options: ValidateOptions = {}): Scenario {
    let text: string
    try {
        text = readFileSync(path, "utf8")
    } catch (err: any) {
        throw new ScenarioError(path, [`cannot read file: ${err.message}`])
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1) // editors on bench PCs like to add a BOM
    let parsed: unknown
    try {
        parsed = JSON.parse(text)
    } catch (err: any) {
        const at = jsonErrorOffset(text)
        const where = at === undefined ? "" : ` at ${lineColumn(text, at)}`
        throw new ScenarioError(path, [`not valid JSON${where}: ${err.message}`])
    }
    return validateScenario(parsed, path, options)
}

function lineColumn(text: string, offset: number): string {
    const before = text.slice(0, offset).split("\n")
    return `line ${before.length}, column ${before[before.length - 1].length + 1}`
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

/** For command-line tools: the scenario, or its problems printed and the process ended with code 2. */
export function loadScenarioOrExit(path: string): Scenario {
    try {
        return loadScenario(path)
    } catch (err) {
        if (err instanceof ScenarioError) {
            console.error(err.message)
            process.exit(2)
        }
        throw err
    }
}
