// The types of a normalised scenario (the file format is docs/scenarios.md, its schema
// scenario.schema.json) and the name lists the schema must agree with (tests/unit/scenario.test.ts
// checks each list against the schema). Validation: validate.ts; reading files: load.ts.
import { OUTLET_REASONS, type OutletReason } from "../../src/core/outlets/io"
import { readFileSync } from "node:fs"
import type { DevsConfig } from "../../src/config/devs.gen"
import { DEVS_SCHEMA } from "../../scripts/lib/devs-config"
import { V2H_MODES, type V2hMode } from "../../src/core/hems/command"

/** The most accessory outlets a configuration may have (devs.schema.json outlets.count maximum). */
export const MAX_OUTLETS: number = JSON.parse(readFileSync(DEVS_SCHEMA, "utf8")).properties.outlets.properties.count.maximum
const outletNumbers = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

/** Faults a scenario can inject; the outlet ones exist for outlets 1..MAX_OUTLETS (only configured outlets are accepted). */
export const FAULT_NAMES = [
    ...outletNumbers(MAX_OUTLETS).map(n => `outlet${n}_meter_stale` as const),
    "battery_stale",
    ...outletNumbers(MAX_OUTLETS).map(n => `outlet${n}_relay_welded` as const),
    "contactor_welded",
    "grid_relay_welded",
    "estop",
    "inverter_stale",
    "grid_meter_stale",
] as const
export type FaultName = (typeof FAULT_NAMES)[number]

/** Per-outlet trace columns, outlet<N>_<kind>, grouped by kind (all outlets' demand, then all outlets' power, ...). */
export const OUTLET_COLUMN_KINDS = ["demand_w", "w", "on", "reason"] as const
export type OutletColumn = `outlet${number}_${(typeof OUTLET_COLUMN_KINDS)[number]}`

const SITE_COLUMNS = [
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
    "unserved_w",
    "state",
    "fault",
    "injected_faults",
] as const
export type TraceColumn = "t_s" | "soc_pct" | OutletColumn | (typeof SITE_COLUMNS)[number]

/** The trace's columns, in CSV order, for a configuration with `outletCount` outlets. */
export function traceColumns(outletCount: number): TraceColumn[] {
    const outlets = OUTLET_COLUMN_KINDS.flatMap(kind => outletNumbers(outletCount).map(n => `outlet${n}_${kind}` as OutletColumn))
    return ["t_s", "soc_pct", ...outlets, ...SITE_COLUMNS]
}

/** Every column a scenario may name (the trace has the outlet columns of its configured outlets only). */
export const TRACE_COLUMNS: readonly TraceColumn[] = traceColumns(MAX_OUTLETS)

/** The outlet a column, fault name or similar belongs to ("outlet3_w" -> 3), or undefined. */
export function outletOf(name: string): number | undefined {
    const m = /^outlet(\d+)_/.exec(name)
    return m ? Number(m[1]) : undefined
}

/** The modes a `hems` event may name: the firmware's own list (src/core/hems/command.ts). */
export const HEMS_MODES: readonly V2hMode[] = V2H_MODES
export type HemsMode = V2hMode

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
export type OutletNumber = number

/**
 * A `hems` event's command as the scenario wrote it: the firmware's wire JSON (snake_case keys,
 * the core's COMMAND_KEYS; src/core/hems/command.ts parses and validates it). The simulator itself
 * reads only the mode and the setpoint (the HEMS's view of its own request).
 */
export interface HemsCommandJson {
    readonly [key: string]: unknown
    readonly mode?: HemsMode
    readonly setpoint_w?: number
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
    command: HemsCommandJson
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
