// What the outlet protection reads each tick (ProtectionInput), what it reports (ProtectionStatus,
// ProtectionEvent), the machine-readable reasons and their wire order, and the part of devs.json
// it uses.
//
// Types and wire lists only; DeviceScript subset.
import type { DevsConfig } from "../../config/devs.gen"

/** Why an outlet is off ("none" when it is on). Machine-readable; shown in telemetry and traces. */
export type OutletReason =
    | "none"
    | "switch_off" // outlet main switch is OFF
    | "overload_sustained" // 1.0 < r <= sustainedRatio for the sustained trip time
    | "overload_inverse" // r > sustainedRatio along t(r) = K / (r^2 - 1)
    | "overload_short" // r > inrushRatio for longer than inrushMaxMs
    | "overload_instant" // r >= instantRatio
    | "overload_on_reset" // still overloaded once the inrush allowance after a reset has passed
    | "shed" // cut to keep a higher-priority outlet within budget
    | "soc_floor" // traction battery at the outlet SoC floor
    | "soc_unknown" // no fresh, valid SoC reading
    | "meter_stale" // outlet reading older than meterTimeoutMs
    | "meter_invalid" // outlet reading not a finite number
    | "estop" // emergency stop (latched by the V2H supervisor, cleared there)

export type AlarmReason = "none" | "soc_floor" | "soc_unknown" | "overload"
export type SocState = "ok" | "alarm" | "cut"

// Wire order of the enums in services/charger-control.md (index = code on the Jacdac wire);
// tests/unit/wire-codes.test.ts checks them against the compiled service spec.
export const OUTLET_REASONS: OutletReason[] = [
    "none",
    "switch_off",
    "overload_sustained",
    "overload_inverse",
    "overload_short",
    "overload_instant",
    "overload_on_reset",
    "shed",
    "soc_floor",
    "soc_unknown",
    "meter_stale",
    "meter_invalid",
    "estop",
]
export const ALARM_REASONS: AlarmReason[] = ["none", "soc_floor", "soc_unknown", "overload"]
export const SOC_STATES: SocState[] = ["ok", "alarm", "cut"]

export type ProtectionEventKind =
    | "trip" // an outlet was cut and latched (reason says why)
    | "reset" // a valid switch OFF/ON cleared the latches
    | "reset_refused" // switch turned ON too soon after OFF: latches kept
    | "soc_alarm" // SoC floor reached (or SoC unknown): alarm sounds
    | "soc_cut" // alarm time over: outlets cut
    | "soc_clear" // SoC back above floor + hysteresis, or floor lowered

export interface ProtectionEvent {
    atMs: number
    kind: ProtectionEventKind
    /** 1-based outlet number; 0 when the event concerns all outlets. */
    outlet: number
    reason: OutletReason
    loadRatio: number
}

/** One outlet's latest measurement; `atMs` is when it was taken. */
export interface OutletReading {
    powerW: number
    currentA: number
    atMs: number
}

export interface ProtectionInput {
    nowMs: number
    mainSwitchOn: boolean
    /**
     * The outlet main switch's role is bound (optional; default true). An unbound switch counts as
     * OFF, and its "off" is nobody's: it neither starts nor completes a trip reset.
     */
    mainSwitchBound?: boolean
    /** Index 0 is outlet 1. A missing entry counts as a stale meter. */
    outlets: OutletReading[]
    socPct: number
    socAtMs: number
    /** Emergency stop in force: every outlet off at once (optional; default false). */
    estop?: boolean
}

export interface ProtectionStatus {
    /** Relay command per outlet (index 0 = outlet 1). */
    outletOn: boolean[]
    /** Governing reason per outlet: the latched trip first, then switch, SoC, meter. */
    reason: OutletReason[]
    /** Latched trip per outlet ("none" when not latched); cleared only by a valid reset. */
    latched: OutletReason[]
    /** Load ratio r = max(P / budgetPowerW, I / budgetCurrentA) of all valid readings. */
    loadRatio: number
    totalPowerW: number
    totalCurrentA: number
    /**
     * Power per outlet as its meter last read it (W, signed as read), NaN when that reading is
     * stale (older than meterTimeoutMs, or none): the one staleness judgement the V2H side's
     * welded-relay check uses too.
     */
    outletW: number[]
    /** Thermal level: 0 cold, 1 = trip. Rises with overload, cools exponentially otherwise. */
    thermalLevel: number
    alarm: boolean
    alarmReason: AlarmReason
    socState: SocState
    socFloorPct: number
    highPriorityOutlet: number
    /** What happened during the last tick (new array each tick). */
    events: ProtectionEvent[]
}

export type ProtectionConfig = Pick<DevsConfig, "outlets" | "tripCurve" | "socFloor">
