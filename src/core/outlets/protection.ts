// Accessory-outlet protection: the shared power/current budget of the AC outlets, the
// time-current trip curve with a thermal level, shedding by priority, latching until a
// user reset, the SoC floor and stale-meter handling.
//
// Pure and deterministic: no I/O, no clock. All time comes from `input.nowMs`, so the same
// code runs in the firmware (called every protection tick), in vitest on Node and inside
// the DeviceScript VM. Stays inside the DeviceScript language subset. Inputs, status, reasons
// and events: io.ts; which outlets a trip or a shed cuts: shedding.ts.
import { isFiniteNumber } from "../common/num"
import { OUTLET_REASONS, OutletReason, ProtectionConfig, ProtectionEvent, ProtectionEventKind, ProtectionInput, ProtectionStatus, SocState } from "./io"
import { chooseCut, loadRatio, shedOrder } from "./shedding"

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
        this.order = shedOrder(this.n, this.highPriority)
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
        this.order = shedOrder(this.n, outlet)
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

    /** Load ratio of a (partial) load; the tick computes its total inline, the same way. */
    private ratio(powerW: number, currentA: number): number {
        return loadRatio(this.cfg.outlets, powerW, currentA)
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
        // A lost switch (unbound role) counts as OFF and as unknown again: a reset needs an OFF
        // the switch itself reported, so a flaky switch connection never clears a latched trip.
        const bound = input.mainSwitchBound !== false
        const sw = bound && !!input.mainSwitchOn
        if (!bound) this.switchKnown = false
        else if (!this.switchKnown) {
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
            const cut = chooseCut(this.cfg.outlets, this.order, avail, pW, iA, onP, onI)
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


    private updateSoc(valid: boolean, soc: number, now: number, r: number) {
        const f = this.cfg.socFloor
        const floor = this.floorPct
        if (this.socState === "ok") {
            // Called in state ok only with the SoC unknown or at the floor (tick()'s guard): the
            // alarm starts, and the cut check below runs in the same tick (alarmToCutMs 0 cuts now).
            this.socState = "alarm"
            this.socCause = valid ? "soc_floor" : "soc_unknown"
            this.socAlarmSinceMs = now
            this.socFloorAtAlarmPct = floor
            this.emit(now, "soc_alarm", 0, this.socCause, r)
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
