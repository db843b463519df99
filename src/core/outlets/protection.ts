// Accessory-outlet protection: the shared power/current budget of the AC outlets, the
// time-current trip curve with a thermal level, shedding by priority, latching until a
// user reset, the SoC floor and stale-meter handling.
//
// Pure and deterministic: no I/O, no clock. All time comes from `input.nowMs`, so the same
// code runs in the firmware (called every protection tick), in vitest on Node and inside
// the DeviceScript VM. Stays inside the DeviceScript language subset.
import type { DevsConfig } from "../../config/devs.gen"
import { isFiniteNumber } from "../common/num"

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

// Steady-state ticks allocate nothing (allocation and Math.exp dominate the VM's cost, see
// README "Performance"): per-outlet scratch arrays live in the instance, and ticks without
// events share this empty list, which is never written to.
const NO_EVENTS: ProtectionEvent[] = []

export class OutletProtection {
    private readonly n: number
    private thermal = 0
    private overInrushMs = 0
    private overloadMs = 0
    private lastNowMs = -1
    private switchKnown = false
    private switchWasOn = false
    private switchOffSinceMs = 0
    private resetAtMs = 0
    private resetCheckPending = false
    private latched: OutletReason[] = []
    private socState: SocState = "ok"
    private socCause: OutletReason = "soc_floor"
    private socAlarmSinceMs = 0
    private socFloorAtAlarmPct = 0
    private floorPct: number
    private highPriority: number
    private order: number[]
    private coolDtMs = -1
    private coolFactor = 1
    // Per-tick scratch, reused.
    private readonly meter: OutletReason[] = []
    private readonly pW: number[] = []
    private readonly iA: number[] = []
    private readonly avail: boolean[] = []
    private events: ProtectionEvent[] = NO_EVENTS
    readonly status: ProtectionStatus

    constructor(private readonly cfg: ProtectionConfig) {
        this.n = cfg.outlets.count
        this.floorPct = cfg.socFloor.defaultPct
        this.highPriority = cfg.outlets.highPriorityOutlet
        this.order = OutletProtection.shedOrder(this.n, this.highPriority)
        const on: boolean[] = []
        const reason: OutletReason[] = []
        const outletW: number[] = []
        for (let i = 0; i < this.n; i++) {
            outletW.push(NaN)
            this.latched.push("none")
            on.push(false)
            reason.push("switch_off")
            this.meter.push("none")
            this.pW.push(0)
            this.iA.push(0)
            this.avail.push(false)
        }
        this.status = {
            outletOn: on,
            reason: reason,
            latched: this.latched,
            loadRatio: 0,
            totalPowerW: 0,
            totalCurrentA: 0,
            outletW: outletW,
            thermalLevel: 0,
            alarm: false,
            alarmReason: "none",
            socState: "ok",
            socFloorPct: this.floorPct,
            highPriorityOutlet: this.highPriority,
            events: NO_EVENTS,
        }
    }

    /** Sets the outlet SoC floor. Returns "" when applied, else why it was rejected (nothing changes). */
    setSocFloor(pct: number): string {
        const f = this.cfg.socFloor
        if (!isFiniteNumber(pct)) return "soc floor " + pct + " is not a number"
        if (pct < f.minPct || pct > f.maxPct)
            return "soc floor " + pct + " % is outside " + f.minPct + ".." + f.maxPct + " %"
        this.floorPct = pct
        this.status.socFloorPct = pct
        return ""
    }

    /** Chooses the outlet kept longest when shedding (1-based). Returns "" or why it was rejected. */
    setHighPriorityOutlet(outlet: number): string {
        if (!isFiniteNumber(outlet) || Math.round(outlet) !== outlet || outlet < 1 || outlet > this.n)
            return "outlet priority " + outlet + " is not an outlet number 1.." + this.n
        this.highPriority = outlet
        this.order = OutletProtection.shedOrder(this.n, outlet)
        this.status.highPriorityOutlet = outlet
        return ""
    }

    /**
     * Restores latched trips after a restart (index 0 = outlet 1), before the first tick. They need
     * the same reset as before the restart: the main switch OFF for resetMinOffMs, then ON. Only
     * latching reasons are accepted; returns "" or why a value was refused (nothing changes then).
     */
    restoreLatched(reasons: string[]): string {
        for (let i = 0; i < reasons.length; i++) {
            const r = reasons[i]
            if (i >= this.n) return "latched outlet " + (i + 1) + " does not exist"
            if (r !== "none" && r !== "shed" && r.indexOf("overload_") !== 0) return "latched reason " + r + " is not a trip reason"
            if (OUTLET_REASONS.indexOf(r as OutletReason) < 0) return "latched reason " + r + " is unknown"
        }
        for (let i = 0; i < reasons.length; i++) this.latched[i] = reasons[i] as OutletReason
        return ""
    }

    /** Outlet indices (0-based) from lowest to highest priority: the high-priority outlet last. */
    private static shedOrder(n: number, highPriority: number): number[] {
        const order: number[] = []
        for (let i = 0; i < n; i++) if (i !== highPriority - 1) order.push(i)
        order.push(highPriority - 1)
        return order
    }

    /** Load ratio of a (partial) load; the tick computes its total inline, the same way. */
    private ratio(powerW: number, currentA: number): number {
        const o = this.cfg.outlets
        return Math.round(Math.max(powerW / o.budgetPowerW, currentA / o.budgetCurrentA) * 1e9) / 1e9
    }

    /** Runs one protection tick and returns the (reused) status object. */
    tick(input: ProtectionInput): ProtectionStatus {
        const o = this.cfg.outlets
        const c = this.cfg.tripCurve
        const now = input.nowMs
        const dtMs = this.lastNowMs < 0 ? 0 : Math.max(0, now - this.lastNowMs)
        this.lastNowMs = now
        this.events = NO_EVENTS
        const st = this.status

        // 1. Outlet main switch: OFF for at least resetMinOffMs, then ON, clears latched trips.
        const sw = !!input.mainSwitchOn
        if (!this.switchKnown) {
            this.switchKnown = true
            if (!sw) this.switchOffSinceMs = now
        } else if (!sw && this.switchWasOn) {
            this.switchOffSinceMs = now
        } else if (sw && !this.switchWasOn && this.anyLatched()) {
            if (now - this.switchOffSinceMs >= o.resetMinOffMs) {
                for (let i = 0; i < this.n; i++) this.latched[i] = "none"
                this.resetAtMs = now
                this.resetCheckPending = true
                this.emit(now, "reset", 0, "none", st.loadRatio)
            } else {
                this.emit(now, "reset_refused", 0, "none", st.loadRatio)
            }
        }
        this.switchWasOn = sw

        // 2. Measurements: only fresh, finite readings count towards the load.
        const meter = this.meter
        const pW = this.pW
        const iA = this.iA
        let sumP = 0
        let sumI = 0
        for (let i = 0; i < this.n; i++) {
            const rd = input.outlets[i]
            let m: OutletReason = "none"
            // Hot path: checks written inline (calls are costly in the VM). x - x !== 0 is
            // true for NaN, +-Infinity and undefined; a NaN age fails "<=" and counts as stale.
            if (!rd || !(now - rd.atMs <= o.meterTimeoutMs)) m = "meter_stale"
            else if (rd.powerW - rd.powerW !== 0 || rd.currentA - rd.currentA !== 0) m = "meter_invalid"
            const p = m === "none" ? Math.abs(rd.powerW) : 0
            const a = m === "none" ? Math.abs(rd.currentA) : 0
            meter[i] = m
            st.outletW[i] = m === "meter_stale" ? NaN : rd.powerW
            pW[i] = p
            iA[i] = a
            sumP += p
            sumI += a
        }
        // Load ratio, rounded to 1e-9 so that band edges (1.0, 1.1, ...) are not missed by float noise.
        const r = Math.round(Math.max(sumP / o.budgetPowerW, sumI / o.budgetCurrentA) * 1e9) / 1e9

        // 3. SoC floor: alarm on reaching it, cut after alarmToCutMs, release with hysteresis.
        const soc = input.socPct
        const socValid = soc - soc === 0 && soc >= 0 && soc <= 100 && now - input.socAtMs <= this.cfg.socFloor.socTimeoutMs
        if (this.socState !== "ok" || !socValid || soc <= this.floorPct) this.updateSoc(socValid, soc, now, r)

        // 4. Outlets that may be on, and the load on them: the load a cut can remove. An outlet
        // already commanded off can still read a load for a moment (the meter's window lags the
        // relay) or for good (a welded relay); cutting the others would not remove it, so it is
        // left out of the cut decisions (it still heats the thermal level below).
        const avail = this.avail
        let onP = 0
        let onI = 0
        for (let i = 0; i < this.n; i++) {
            avail[i] = sw && !input.estop && this.latched[i] === "none" && meter[i] === "none" && this.socState !== "cut"
            if (avail[i]) {
                onP += pW[i]
                onI += iA[i]
            }
        }
        const rOn = Math.round(Math.max(onP / o.budgetPowerW, onI / o.budgetCurrentA) * 1e9) / 1e9

        // 5. Thermal level along the curve (all measured load), and the short-time and alarm timers.
        if (r > c.sustainedRatio) this.thermal += ((dtMs / 1000) * (r * r - 1)) / c.inverseConstantS
        else if (r > 1) this.thermal += dtMs / c.sustainedTripMs
        else {
            // exp(-dt / tau), cached because dt is almost always one tick.
            if (dtMs !== this.coolDtMs) {
                this.coolDtMs = dtMs
                this.coolFactor = Math.exp(-dtMs / 1000 / c.coolingTimeConstantS)
            }
            this.thermal *= this.coolFactor
        }
        this.overInrushMs = rOn > c.inrushRatio ? this.overInrushMs + dtMs : 0
        this.overloadMs = r > 1 ? this.overloadMs + dtMs : 0

        // 6. Trip decision on the load that outlets still on carry, most severe first.
        let trip: OutletReason = "none"
        if (rOn >= c.instantRatio) trip = "overload_instant"
        else if (this.overInrushMs > c.inrushMaxMs) trip = "overload_short"
        else if (rOn > 1 && this.thermal >= 1) trip = rOn > c.sustainedRatio ? "overload_inverse" : "overload_sustained"
        else if (this.resetCheckPending && now - this.resetAtMs >= c.inrushMaxMs) {
            this.resetCheckPending = false
            if (rOn > 1) trip = "overload_on_reset"
        }

        if (trip !== "none") {
            this.resetCheckPending = false
            const cut = this.chooseCut(avail, pW, iA, onP, onI)
            for (let k = 0; k < cut.length; k++) {
                const i = cut[k]
                this.latch(i, this.ratio(pW[i], iA[i]) > 1 ? trip : "shed", now, r)
                avail[i] = false
            }
        } else if (rOn > 1 && this.thermal >= o.shedAtThermalLevel) {
            // Heading for a trip: shed the lowest-priority outlet that is on, if its own load is
            // within budget (it is sacrificed for the others, not the culprit: a culprit gets its
            // full curve) and cutting it brings the remaining load within budget.
            const order = this.order
            let low = -1
            let onCount = 0
            for (let k = 0; k < order.length; k++) {
                if (!avail[order[k]]) continue
                onCount++
                if (low < 0) low = order[k]
            }
            if (onCount >= 2 && this.ratio(pW[low], iA[low]) <= 1 && this.ratio(onP - pW[low], onI - iA[low]) <= 1) {
                this.latch(low, "shed", now, r)
                avail[low] = false
            }
        }

        // 7. Outputs.
        for (let i = 0; i < this.n; i++) {
            st.outletOn[i] = avail[i]
            let why: OutletReason = "none"
            if (input.estop) why = "estop"
            else if (this.latched[i] !== "none") why = this.latched[i]
            else if (!sw) why = "switch_off"
            else if (this.socState === "cut") why = this.socCause
            else if (meter[i] !== "none") why = meter[i]
            st.reason[i] = why
        }
        st.loadRatio = r
        st.totalPowerW = sumP
        st.totalCurrentA = sumI
        st.thermalLevel = this.thermal
        st.socState = this.socState
        if (this.socState === "alarm") {
            st.alarm = true
            st.alarmReason = this.socCause === "soc_unknown" ? "soc_unknown" : "soc_floor"
        } else if (this.overloadMs > c.warningDelayMs) {
            st.alarm = true
            st.alarmReason = "overload"
        } else {
            st.alarm = false
            st.alarmReason = "none"
        }
        st.events = this.events
        return st
    }

    private anyLatched(): boolean {
        for (let i = 0; i < this.n; i++) if (this.latched[i] !== "none") return true
        return false
    }

    private latch(i: number, why: OutletReason, now: number, r: number) {
        this.latched[i] = why
        this.emit(now, "trip", i + 1, why, r)
    }

    private emit(atMs: number, kind: ProtectionEventKind, outlet: number, reason: OutletReason, loadRatio: number) {
        if (this.events === NO_EVENTS) this.events = []
        this.events.push({ atMs: atMs, kind: kind, outlet: outlet, reason: reason, loadRatio: loadRatio })
    }


    /**
     * The smallest cut that brings the remaining load to r <= 1, trying in order: one outlet
     * (lowest priority first), then the k lowest-priority outlets together; all outlets that
     * are on when nothing less will do.
     */
    private chooseCut(avail: boolean[], pW: number[], iA: number[], sumP: number, sumI: number): number[] {
        const order: number[] = []
        const prio = this.order
        for (let k = 0; k < prio.length; k++) if (avail[prio[k]]) order.push(prio[k])
        for (let k = 0; k < order.length; k++) {
            const i = order[k]
            if (this.ratio(sumP - pW[i], sumI - iA[i]) <= 1) return [i]
        }
        let p = sumP
        let a = sumI
        for (let k = 0; k < order.length; k++) {
            p -= pW[order[k]]
            a -= iA[order[k]]
            if (this.ratio(p, a) <= 1) return order.slice(0, k + 1)
        }
        return order
    }

    private updateSoc(valid: boolean, soc: number, now: number, r: number) {
        const f = this.cfg.socFloor
        const floor = this.floorPct
        if (this.socState === "ok") {
            if (!valid || soc <= floor) {
                this.socState = "alarm"
                this.socCause = valid ? "soc_floor" : "soc_unknown"
                this.socAlarmSinceMs = now
                this.socFloorAtAlarmPct = floor
                this.emit(now, "soc_alarm", 0, this.socCause, r)
            }
            return
        }
        if (valid && soc <= floor) this.socCause = "soc_floor"
        const release =
            valid &&
            (soc >= floor + f.releaseHysteresisPct ||
                (floor < this.socFloorAtAlarmPct && soc > floor) ||
                (this.socCause === "soc_unknown" && soc > floor))
        if (release) {
            this.socState = "ok"
            this.emit(now, "soc_clear", 0, "none", r)
        } else if (this.socState === "alarm" && now - this.socAlarmSinceMs >= f.alarmToCutMs) {
            this.socState = "cut"
            this.emit(now, "soc_cut", 0, this.socCause, r)
        }
    }
}
