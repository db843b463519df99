// What the V2H supervisor reads each tick (V2hInput), what it reports (V2hStatus, V2hEvent) and the
// part of devs.json it uses. The pieces of the supervisor (faults.ts, claims.ts, sequencing.ts)
// share one status object; the shell and the gateways only read it.
//
// Types only; DeviceScript subset.
import type { DevsConfig } from "../../config/devs.gen"
import type { V2hMode } from "../hems/command"
import type { GridState, GridTrip } from "./grid-monitor"
import type { LimitReason, RequestSource } from "./limits"
import type { FaultCode } from "./faults"
import type { V2hState } from "./sequencing"

export type V2hConfig = Pick<DevsConfig, "v2h" | "grid" | "socFloor" | "outlets" | "persist">

export interface V2hInput {
    nowMs: number
    estop: boolean
    /** false while the e-stop input is not bound (no e-stop: no V2H power, not latched); default true. */
    estopAvailable?: boolean
    socPct: number
    batteryVoltageV: number
    maxDischargeCurrentA: number
    maxChargeCurrentA: number
    batteryAtMs: number
    inverterW: number
    inverterTempC: number
    contactorClosed: boolean
    gridRelayClosed: boolean
    inverterAtMs: number
    gridW: number
    gridVoltageV: number
    gridFrequencyHz: number
    gridAtMs: number
    /** Total delivered accessory-outlet power (AC W), from the outlet protection. */
    outletsW: number
    /** Outlet relay commands and measured powers (welded-relay detection); index 0 = outlet 1. */
    outletOn: boolean[]
    outletW: number[]
}

export type V2hEventKind = "state" | "fault" | "fault_cleared" | "command_timeout" | "mode"

export interface V2hEvent {
    atMs: number
    kind: V2hEventKind
    state: V2hState
    fault: FaultCode
    /** Machine-readable why: the fault, grid trip, limit or mode. */
    reason: string
}

export interface V2hStatus {
    state: V2hState
    /** Why the current state was entered. */
    stateReason: string
    mode: V2hMode
    setpointW: number
    requestW: number
    requestSource: RequestSource
    targetW: number
    /** The ramped power command sent to the inverter. */
    commandW: number
    contactorCmd: boolean
    gridRelayCmd: boolean
    islandCmd: boolean
    /** The limit that set the target ("none" when the request is unrestricted). */
    limitReason: LimitReason
    /** Every limit in force: bit c = the reason with wire code c (LIMIT_REASONS[c]). */
    limitMask: number
    limitLoW: number
    limitHiW: number
    /** The most important fault now: a latched one first, then a condition; "none". */
    fault: FaultCode
    faultLatched: boolean
    lastFault: FaultCode
    lastFaultAtMs: number
    reservePct: number
    chargeLimitPct: number
    gridState: GridState
    gridTrip: GridTrip
    /** Local-mode note ("time_unknown", "pv_waiting", ...), "" otherwise. */
    modeNote: string
    events: V2hEvent[]
}
