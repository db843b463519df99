// V2H supervisor: follows the HEMS setpoint or the local mode within every limit, shares the
// battery with the accessory outlets, ramps, sequences the DC contactor and the grid relay, rides
// through grid loss (backup/islanding or stop), and latches faults.
//
//   request (HEMS setpoint | fallback after the command timeout | local mode | backup)
//     -> LimitSet.resolve (v2h-limits.ts: the one arbitration place, every limit with its reason)
//     -> target -> ramp (increases at rampUpWPerS, decreases at once) -> command to the inverter
//
// States (every transition carries a reason, reported as an event):
//   idle         contactor open, 0 W
//   starting     contactor commanded closed, waiting for its feedback
//   discharging  / charging: contactor closed, following the target
//   stopping     target 0: power ramped to ~0, then the contactor opens (never under load,
//                except in emergencies: e-stop, welded contact, inverter overload)
//   grid_lost    grid outside the trip table, no backup: 0 W, contactor opened once at ~0 W;
//                the inverter waits for the grid to be back in band for the enter-service delay
//   backup       islanded supply of the house (devs.json v2h.backup.enabled)
//   fault        a latched fault: 0 W, contactor open; cleared only by clearFaults() once the
//                cause is gone (a local action, never over the network)
//
// Pure and deterministic (time only from input.nowMs); DeviceScript subset.
import type { DevsConfig } from "../config/devs.gen"
import { isFiniteNumber } from "./num"
import { GridMonitor, GridState, GridTrip } from "./grid-monitor"
import { LIMIT_REASONS, LimitReason, LimitSet, RequestSource } from "./v2h-limits"
import { LocalModes } from "./v2h-modes"
import { HemsCommand, V2hMode } from "./hems-command"

export type V2hState = "idle" | "starting" | "discharging" | "charging" | "stopping" | "grid_lost" | "backup" | "fault"
/** Wire order (services/charger-control.md enum V2hState). */
export const V2H_STATES: V2hState[] = ["idle", "starting", "discharging", "charging", "stopping", "grid_lost", "backup", "fault"]

export type FaultCode =
    | "none"
    // latched (cleared only by clearFaults once the cause is gone):
    | "estop"
    | "contactor_welded"
    | "contactor_stuck_open"
    | "grid_relay_welded"
    | "grid_relay_stuck_open"
    | "outlet1_relay_welded"
    | "outlet2_relay_welded"
    | "inverter_overload"
    | "ramp_down_timeout"
    // conditions (force 0 W while present, clear by themselves):
    | "battery_stale"
    | "inverter_stale"
    | "grid_meter_stale"
    | "grid_lost"
/** Wire order (services/charger-control.md enum Fault). */
export const FAULT_CODES: FaultCode[] = [
    "none",
    "estop",
    "contactor_welded",
    "contactor_stuck_open",
    "grid_relay_welded",
    "grid_relay_stuck_open",
    "outlet1_relay_welded",
    "outlet2_relay_welded",
    "inverter_overload",
    "ramp_down_timeout",
    "battery_stale",
    "inverter_stale",
    "grid_meter_stale",
    "grid_lost",
]
const FIRST_CONDITION = FAULT_CODES.indexOf("battery_stale")

/** Faults that open the DC contactor at once, under load if need be. */
function isEmergency(f: FaultCode): boolean {
    return f === "estop" || f === "contactor_welded" || f === "inverter_overload" || f === "ramp_down_timeout"
}

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
    /** Transfer contact feedback: the house is on the islanded bus (default false: on the grid). */
    transferOnIsland?: boolean
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

export interface FaultLogEntry {
    /** Uptime of that boot when it happened, ms. */
    atMs: number
    fault: FaultCode
    /** Boot number (see bootCount). */
    boot: number
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
    /** Energise the transfer contact (house to the island). Only backup with the grid down sets it. */
    transferCmd: boolean
    /** Cease to energize (inverter stop, distinct from a 0 W setpoint): every trip, e-stop, fault, and whenever the command is 0 W. */
    ceaseCmd: boolean
    /** The limit that set the target ("none" when the request is unrestricted). */
    limitReason: LimitReason
    /** Every limit in force: bit i = LIMIT_REASONS[i]. */
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

export type V2hConfig = Pick<DevsConfig, "v2h" | "grid" | "socFloor" | "outlets" | "persist">

const NO_EVENTS: V2hEvent[] = []
// Indices of the limit reasons (claims by index: string searches cost in the VM's hot path).
const R_ESTOP = LIMIT_REASONS.indexOf("estop")
const R_FAULT = LIMIT_REASONS.indexOf("fault")
const R_BATTERY_STALE = LIMIT_REASONS.indexOf("battery_stale")
const R_INVERTER_STALE = LIMIT_REASONS.indexOf("inverter_stale")
const R_GRID_METER_STALE = LIMIT_REASONS.indexOf("grid_meter_stale")
const R_GRID_LOST = LIMIT_REASONS.indexOf("grid_lost")
const R_GRID_RECONNECTING = LIMIT_REASONS.indexOf("grid_reconnecting")
const R_ENTER_SERVICE_RAMP = LIMIT_REASONS.indexOf("enter_service_ramp")
const R_RATING = LIMIT_REASONS.indexOf("rating")
const R_OVER_TEMPERATURE = LIMIT_REASONS.indexOf("over_temperature")
const R_VEHICLE_DISCHARGE_LIMIT = LIMIT_REASONS.indexOf("vehicle_discharge_limit")
const R_VEHICLE_CHARGE_LIMIT = LIMIT_REASONS.indexOf("vehicle_charge_limit")
const R_NO_REVERSE_FLOW = LIMIT_REASONS.indexOf("no_reverse_flow")
const R_GRID_IMPORT_LIMIT = LIMIT_REASONS.indexOf("grid_import_limit")
const R_ISLANDED_LIMIT = LIMIT_REASONS.indexOf("islanded_limit")
const R_DIRECTION_DWELL = LIMIT_REASONS.indexOf("direction_dwell")
const R_OUTLET_SHARE = LIMIT_REASONS.indexOf("outlet_share")
const R_SOC_RESERVE = LIMIT_REASONS.indexOf("soc_reserve")
const R_CHARGE_LIMIT = LIMIT_REASONS.indexOf("charge_limit")
const F_BATTERY_STALE = FAULT_CODES.indexOf("battery_stale")
const F_GRID_RELAY_WELDED = FAULT_CODES.indexOf("grid_relay_welded")
const F_INVERTER_STALE = FAULT_CODES.indexOf("inverter_stale")
const F_GRID_METER_STALE = FAULT_CODES.indexOf("grid_meter_stale")
const F_GRID_LOST = FAULT_CODES.indexOf("grid_lost")
/** The open side of a one-sided claim. */
const UNLIMITED_W = 1e12

export class V2hSupervisor {
    readonly status: V2hStatus
    /** Most recent last; at most persist.faultLogEntries entries; persisted across restarts. */
    readonly faultLog: FaultLogEntry[] = []
    /** This run's boot number (1 on a first boot; set from the stored record by persist.restore). */
    bootCount = 1
    readonly grid: GridMonitor
    readonly limits = new LimitSet()
    private readonly modes: LocalModes
    private readonly v: V2hConfig["v2h"]
    private readonly cfg: V2hConfig
    private latched: FaultCode = "none"
    /** Latched faults logged while another one was the latched one (logged once until the reset). */
    private alsoLatched: boolean[] = []
    private conditionActive: boolean[] = []
    private lastNowMs = -1
    private lastCommandMs = -1e12
    private timedOut = false
    private contactorCmdAtMs = 0
    private gridRelayCmdAtMs = 0
    private stateAtMs = 0
    private zeroSinceMs = -1
    private lastDirection = 0
    private directionZeroAtMs = -1e12
    private reserveHit = false
    private chargeFull = false
    private thermalStop = false
    private outletOffSinceMs: number[] = []
    private lastInput: V2hInput = null
    /** Events raised between ticks (by a command or clearFaults); the next tick reports them. */
    private betweenTicks: V2hEvent[] = NO_EVENTS
    private inTick = false
    private backupIsolated = false
    private gridGone = false
    /** False until the first fresh inverter reading: contacts are judged only after it (bumpless restart). */
    private feedbackSeen = false
    /** Since when the returned grid has been in the enter-service window while islanded (-1 = not). */
    private gridBackSinceMs = -1

    constructor(cfg: V2hConfig) {
        this.cfg = cfg
        this.v = cfg.v2h
        this.grid = new GridMonitor(cfg)
        this.modes = new LocalModes(cfg)
        for (let i = 0; i < FAULT_CODES.length; i++) {
            this.conditionActive.push(false)
            this.alsoLatched.push(false)
        }
        for (let i = 0; i < cfg.outlets.count; i++) this.outletOffSinceMs.push(-1)
        this.status = {
            state: "idle",
            stateReason: "boot",
            mode: this.v.localMode as V2hMode,
            setpointW: 0,
            requestW: 0,
            requestSource: "idle",
            targetW: 0,
            commandW: 0,
            contactorCmd: false,
            gridRelayCmd: false,
            islandCmd: false,
            transferCmd: false,
            ceaseCmd: true,
            limitReason: "none",
            limitMask: 0,
            limitLoW: 0,
            limitHiW: 0,
            fault: "none",
            faultLatched: false,
            lastFault: "none",
            lastFaultAtMs: 0,
            reservePct: this.v.reserve.defaultPct,
            chargeLimitPct: this.v.chargeLimit.defaultPct,
            gridState: "unknown",
            gridTrip: "none",
            modeNote: "",
            events: NO_EVENTS,
        }
        this.modes.reset(0)
    }

    // ------------------------------------------------------------------ commands

    /**
     * Checks the V2H part of a validated command against the current settings without applying it.
     * Returns "" or why it cannot apply (e.g. a reserve above the current charge limit).
     */
    checkCommand(c: HemsCommand): string {
        const reserve = isFiniteNumber(c.reservePct) ? c.reservePct : this.status.reservePct
        const limit = isFiniteNumber(c.chargeLimitPct) ? c.chargeLimitPct : this.status.chargeLimitPct
        if (!(reserve < limit)) {
            if (isFiniteNumber(c.reservePct)) return `reserve_pct = ${reserve}: must be below the charge limit (${limit} %)`
            return `charge_limit_pct = ${limit}: must be above the reserve (${reserve} %)`
        }
        return ""
    }

    /** Applies the V2H part of a command already checked by checkCommand. Any valid command refreshes the timeout. */
    applyCommand(c: HemsCommand, nowMs: number) {
        this.lastCommandMs = nowMs
        if (this.timedOut) this.timedOut = false
        if (isFiniteNumber(c.reservePct)) this.status.reservePct = c.reservePct
        if (isFiniteNumber(c.chargeLimitPct)) this.status.chargeLimitPct = c.chargeLimitPct
        if (c.mode !== "") {
            if (c.mode !== this.status.mode) {
                this.status.mode = c.mode as V2hMode
                this.modes.reset(nowMs)
                this.pushEvent(nowMs, "mode", c.mode)
            }
            if (c.mode === "setpoint") this.status.setpointW = c.setpointW
        }
    }

    /** The latched fault ("none" when none). */
    latchedFault(): FaultCode {
        return this.latched
    }

    /**
     * Restores a latched fault after a restart (before the first tick): the controller comes up in
     * `fault` and needs the same clear_faults as before. Returns "" or why the value was refused.
     */
    restoreFault(fault: string, nowMs: number): string {
        const i = FAULT_CODES.indexOf(fault as FaultCode)
        if (i < 0) return "fault " + fault + " is unknown"
        if (i >= FIRST_CONDITION) return "fault " + fault + " is a condition, not a latched fault"
        this.latched = fault as FaultCode
        if (fault !== "none") this.setState("fault", "restored:" + fault, nowMs)
        return ""
    }

    /** Puts back the fault log of earlier boots (oldest first; entries are assumed valid). */
    restoreLog(entries: FaultLogEntry[]) {
        for (const e of entries) this.pushLog(e)
    }

    private pushLog(e: FaultLogEntry) {
        if (this.faultLog.length >= this.cfg.persist.faultLogEntries) this.faultLog.shift()
        this.faultLog.push(e)
    }

    setTimeOfDay(seconds: number, nowMs: number): string {
        return this.modes.setTimeOfDay(seconds, nowMs)
    }

    timeOfDayS(nowMs: number): number {
        return this.modes.timeOfDayS(nowMs)
    }

    /**
     * Clears latched faults once their causes are gone (a local action: the control surface's
     * clear_faults command). Returns "" or why not; nothing changes on refusal.
     */
    clearFaults(nowMs: number): string {
        if (this.latched === "none") return ""
        const inp = this.lastInput
        if (inp) {
            if (inp.estop) return "cannot clear faults: the e-stop is still pressed"
            if (!this.status.contactorCmd && inp.contactorClosed) return "cannot clear faults: the DC contactor still reads closed (welded)"
            if (!this.status.gridRelayCmd && inp.gridRelayClosed && (this.latched === "grid_relay_welded" || this.alsoLatched[F_GRID_RELAY_WELDED]))
                return "cannot clear faults: the grid relay still reads closed (welded)"
            for (let i = 0; i < inp.outletOn.length; i++)
                if (!inp.outletOn[i] && inp.outletW[i] > this.v.contactor.weldedPowerW)
                    return `cannot clear faults: outlet ${i + 1} still delivers ${Math.round(inp.outletW[i])} W with its relay off (welded)`
        }
        const was = this.latched
        this.latched = "none"
        for (let i = 0; i < this.alsoLatched.length; i++) this.alsoLatched[i] = false
        this.pushEvent(nowMs, "fault_cleared", was)
        this.setState("idle", "faults_cleared", nowMs)
        return ""
    }

    /** The inputs of the last tick (null before the first): the measurements the status document shows. */
    lastReadings(): V2hInput {
        return this.lastInput
    }

    // ------------------------------------------------------------------ tick

    tick(inp: V2hInput): V2hStatus {
        this.inTick = true
        try {
            return this.tickInner(inp)
        } finally {
            this.inTick = false
        }
    }

    private tickInner(inp: V2hInput): V2hStatus {
        const st = this.status
        const v = this.v
        const now = inp.nowMs
        const dtMs = this.lastNowMs < 0 ? 0 : Math.max(0, now - this.lastNowMs)
        this.lastNowMs = now
        this.lastInput = inp
        st.events = this.betweenTicks
        this.betweenTicks = NO_EVENTS

        // Freshness of the three data sources.
        const batteryFresh =
            now - inp.batteryAtMs <= this.cfg.socFloor.socTimeoutMs && isFiniteNumber(inp.socPct) && isFiniteNumber(inp.batteryVoltageV)
        const inverterFresh = now - inp.inverterAtMs <= v.readingTimeoutMs && isFiniteNumber(inp.inverterW)
        const gridFresh = now - inp.gridAtMs <= v.readingTimeoutMs
        if (gridFresh) this.grid.update(now, inp.gridVoltageV, inp.gridFrequencyHz)
        st.gridState = this.grid.state
        st.gridTrip = this.grid.trip
        const gridDown = gridFresh && (this.grid.state === "tripped" || this.grid.state === "reconnecting")
        // Islanding for backup only when the grid is really gone (not for a V/f excursion of a live grid).
        this.gridGone = gridDown && this.grid.trip === "loss_of_grid"
        this.condition(F_BATTERY_STALE, !batteryFresh, now)
        this.condition(F_INVERTER_STALE, !inverterFresh, now)
        this.condition(F_GRID_METER_STALE, !gridFresh, now)
        this.condition(F_GRID_LOST, gridDown, now)

        // Bumpless restart: the first fresh reading tells what the contacts really do; the commands
        // start from it and their feedback timers start now (nothing latches from a stale command).
        if (inverterFresh && !this.feedbackSeen) {
            this.feedbackSeen = true
            st.gridRelayCmd = !!inp.gridRelayClosed
            this.gridRelayCmdAtMs = now
            this.contactorCmdAtMs = now
        }
        if (this.feedbackSeen) this.detectFaults(inp, now, inverterFresh)

        // ---- request
        let requestW = 0
        let source: RequestSource = "idle"
        const mode = st.mode
        const houseNetW = inverterFresh && gridFresh && isFiniteNumber(inp.gridW) ? inp.inverterW + inp.gridW : NaN
        if (st.state === "backup") {
            requestW = v.backup.islandedLimitW
            source = "backup"
        } else if (mode === "setpoint") {
            if (now - this.lastCommandMs > v.commandTimeoutMs) {
                if (!this.timedOut) {
                    this.timedOut = true
                    this.pushEvent(now, "command_timeout", "fallback")
                }
                requestW = v.fallbackSetpointW
                source = "fallback"
            } else {
                requestW = st.setpointW
                source = "hems"
            }
        } else if (mode !== "idle") {
            requestW = this.modes.request(mode, now, houseNetW)
            source = "local"
        }
        st.modeNote = this.modes.note
        st.requestW = requestW
        st.requestSource = source

        // ---- limits (one place; see v2h-limits.ts for the priority order)
        const L = this.limits
        L.clear()
        if (this.latched !== "none") L.claimAt(this.latched === "estop" ? R_ESTOP : R_FAULT, 0, 0)
        else if (inp.estopAvailable === false) L.claimAt(R_ESTOP, 0, 0)
        if (!batteryFresh) L.claimAt(R_BATTERY_STALE, 0, 0)
        if (!inverterFresh) L.claimAt(R_INVERTER_STALE, 0, 0)
        const islanded = st.state === "backup"
        if (!islanded) {
            if (!gridFresh) L.claimAt(R_GRID_METER_STALE, 0, 0)
            else if (this.grid.state === "reconnecting") L.claimAt(R_GRID_RECONNECTING, 0, 0)
            else if (this.grid.state !== "ok") L.claimAt(R_GRID_LOST, 0, 0)
            else if (this.grid.rampFraction < 1) {
                const w = v.ratedPowerW * this.grid.rampFraction
                L.claimAt(R_ENTER_SERVICE_RAMP, -w, w)
            }
        } else L.claimAt(R_ISLANDED_LIMIT, 0, v.backup.islandedLimitW)
        L.claimAt(R_RATING, -v.ratedPowerW, v.ratedPowerW)
        if (inverterFresh) {
            const d = v.derating
            const t = inp.inverterTempC
            if (t >= d.stopC) this.thermalStop = true
            else if (t < d.resumeBelowC) this.thermalStop = false
            let factor = (d.stopC - t) / (d.stopC - d.startC)
            if (this.thermalStop || !(factor > 0)) factor = 0
            if (factor < 1) L.claimAt(R_OVER_TEMPERATURE, -v.ratedPowerW * factor, v.ratedPowerW * factor)
        }
        let allowanceW = 0
        if (batteryFresh) {
            const dis = isFiniteNumber(inp.maxDischargeCurrentA) ? Math.max(0, inp.maxDischargeCurrentA) : 0
            const chg = isFiniteNumber(inp.maxChargeCurrentA) ? Math.max(0, inp.maxChargeCurrentA) : 0
            allowanceW = dis * inp.batteryVoltageV * v.inverterEfficiency
            L.claimAt(R_VEHICLE_DISCHARGE_LIMIT, -UNLIMITED_W, allowanceW)
            L.claimAt(R_VEHICLE_CHARGE_LIMIT, -(chg * inp.batteryVoltageV) / v.inverterEfficiency, UNLIMITED_W)
        }
        if (!islanded && gridFresh && inverterFresh && isFiniteNumber(inp.gridW)) {
            if (!v.reverseFlowAllowed) L.claimAt(R_NO_REVERSE_FLOW, -UNLIMITED_W, houseNetW - v.exportMarginW)
            L.claimAt(R_GRID_IMPORT_LIMIT, -(v.maxGridImportW - houseNetW), UNLIMITED_W)
        }
        if (this.lastDirection !== 0 && now - this.directionZeroAtMs < v.directionDwellMs && this.status.commandW === 0) {
            // Just came down from one direction: the other one waits out the dwell.
            if (this.lastDirection > 0) L.claimAt(R_DIRECTION_DWELL, 0, UNLIMITED_W)
            else L.claimAt(R_DIRECTION_DWELL, -UNLIMITED_W, 0)
        }
        const outletsW = isFiniteNumber(inp.outletsW) && inp.outletsW > 0 ? inp.outletsW : 0
        if (batteryFresh && outletsW > 0) L.claimAt(R_OUTLET_SHARE, -UNLIMITED_W, allowanceW - outletsW)
        if (batteryFresh) {
            if (inp.socPct <= st.reservePct) this.reserveHit = true
            else if (inp.socPct > st.reservePct + v.socHysteresisPct) this.reserveHit = false
            if (inp.socPct >= st.chargeLimitPct) this.chargeFull = true
            else if (inp.socPct < st.chargeLimitPct - v.socHysteresisPct) this.chargeFull = false
            if (this.reserveHit) L.claimAt(R_SOC_RESERVE, -UNLIMITED_W, 0)
            if (this.chargeFull) L.claimAt(R_CHARGE_LIMIT, 0, UNLIMITED_W)
        }
        const targetW = L.resolve(requestW)
        st.targetW = targetW
        st.limitReason = L.governing
        st.limitMask = L.mask
        st.limitLoW = L.windowLoW
        st.limitHiW = L.windowHiW

        // ---- state machine and actuators
        this.step(inp, now, dtMs, targetW, gridFresh, gridDown, inverterFresh)

        // Direction bookkeeping for the dwell.
        if (st.commandW > 0) this.lastDirection = 1
        else if (st.commandW < 0) this.lastDirection = -1
        if (st.commandW !== 0) this.directionZeroAtMs = now

        // Reported fault: latched first, else the first active condition.
        st.faultLatched = this.latched !== "none"
        st.fault = this.latched
        if (st.fault === "none")
            for (let i = FIRST_CONDITION; i < FAULT_CODES.length; i++)
                if (this.conditionActive[i]) {
                    st.fault = FAULT_CODES[i]
                    break
                }
        return st
    }

    private step(inp: V2hInput, now: number, dtMs: number, targetW: number, gridFresh: boolean, gridDown: boolean, inverterFresh: boolean) {
        const st = this.status
        const v = this.v
        const c = v.contactor
        const nearZero = inverterFresh && Math.abs(inp.inverterW) < c.openBelowW

        // Cease to energize by default; the running states below release it.
        st.ceaseCmd = true
        if (this.latched !== "none") {
            if (st.state !== "fault") this.setState("fault", this.latched, now)
            st.commandW = 0
            st.islandCmd = false
            st.transferCmd = false // a fault never keeps the house off the grid
            if (isEmergency(this.latched) || nearZero || !inverterFresh) this.setContactor(false, now)
            if (this.latched === "estop" || this.latched === "grid_relay_welded") this.setGridRelay(false, now)
            else if (this.grid.state === "ok" && !gridDown && gridFresh) this.setGridRelay(true, now)
            return
        }

        // Grid trip: the inverter ceases to energize at once; a lost grid islands the house (backup).
        if (gridDown && st.state !== "backup" && st.state !== "grid_lost") {
            st.commandW = 0 // protective decrease: immediate
            this.backupIsolated = false
            this.gridBackSinceMs = -1
            if (v.backup.enabled && this.gridGone) this.setState("backup", "grid_lost:" + this.grid.trip, now)
            else this.setState("grid_lost", "grid_lost:" + this.grid.trip, now)
        }
        if (st.state !== "backup") st.transferCmd = false

        switch (st.state) {
            case "grid_lost":
                // A trip without islanding: the inverter ceases to energize (the house stays on the
                // grid through the transfer contact's rest position); it re-energizes only after
                // the enter-service delay (grid monitor "reconnecting" -> "ok").
                st.commandW = 0
                st.islandCmd = false
                if (nearZero || !inverterFresh) this.setContactor(false, now)
                if (this.grid.state === "ok") this.setState("idle", "grid_back", now)
                // The grid went from bad to gone: island after all (backup).
                else if (v.backup.enabled && gridFresh && gridDown && !this.grid.live) {
                    this.backupIsolated = false
                    this.gridBackSinceMs = -1
                    this.setState("backup", "grid_lost:loss_of_grid", now)
                }
                return
            case "backup": {
                // Retransfer: the grid back in the enter-service window for backup.retransferDelayMs
                // (at once if the island cannot carry the house), break-before-make: the inverter
                // stops forming the island first, then the contact drops back to the grid. The
                // enter-service delay then holds the inverter, never the house.
                if (this.grid.live && this.grid.inWindow) {
                    if (this.gridBackSinceMs < 0) this.gridBackSinceMs = now
                } else this.gridBackSinceMs = -1
                // The island cannot carry the house: not formed (yet), nothing to give, an inverter it
                // cannot see, or the inverter at its limit.
                const cannotCarry =
                    !this.backupIsolated || targetW <= 0 || !inverterFresh || (st.commandW > 0 && inp.inverterW >= st.commandW - c.openBelowW)
                // (A live grid outside the window still beats a house the island cannot carry.)
                if ((this.gridBackSinceMs >= 0 && now - this.gridBackSinceMs >= v.backup.retransferDelayMs) || (this.grid.live && cannotCarry)) {
                    st.commandW = 0
                    st.islandCmd = false
                    st.transferCmd = false
                    if (!inp.transferOnIsland) {
                        this.backupIsolated = false
                        this.setState(this.grid.state === "ok" ? (st.contactorCmd ? "stopping" : "idle") : "grid_lost", "grid_back", now)
                    }
                    return
                }
                if (!this.backupIsolated) {
                    // Break before make: the inverter has ceased, the house moves to the island bus.
                    st.commandW = 0
                    st.islandCmd = false
                    st.transferCmd = true
                    this.setGridRelay(true, now) // the inverter's own relay to the house bus
                    if (inp.transferOnIsland) this.backupIsolated = true
                    return
                }
                st.transferCmd = true
                st.islandCmd = true
                st.ceaseCmd = false
                if (targetW > 0) this.setContactor(true, now)
                // Islanded the command is a limit (the house draws what it draws): no ramp.
                st.commandW = inp.contactorClosed ? targetW : 0
                if (targetW === 0 && nearZero && st.contactorCmd) {
                    if (this.zeroSinceMs < 0) this.zeroSinceMs = now
                    if (now - this.zeroSinceMs >= c.idleOpenDelayMs) this.setContactor(false, now)
                } else this.zeroSinceMs = -1
                return
            }
        }

        if (this.grid.state === "ok" && gridFresh) this.setGridRelay(true, now)
        st.islandCmd = false

        switch (st.state) {
            case "fault": // faults were just cleared elsewhere; fall through to idle handling
            case "idle":
                st.commandW = 0
                if (targetW !== 0 && inp.gridRelayClosed) {
                    this.setContactor(true, now)
                    this.setState("starting", targetW > 0 ? "discharge_requested" : "charge_requested", now)
                }
                break
            case "starting":
                st.commandW = 0
                if (targetW === 0) {
                    this.setContactor(false, now)
                    this.setState("idle", "request_withdrawn", now)
                } else if (inp.contactorClosed) this.setState(targetW > 0 ? "discharging" : "charging", "contactor_closed", now)
                break
            case "discharging":
            case "charging":
            case "stopping": {
                st.commandW = this.ramp(st.commandW, targetW, dtMs)
                st.ceaseCmd = st.commandW === 0
                if (st.commandW > 0 && st.state !== "discharging") this.setState("discharging", "target_positive", now)
                else if (st.commandW < 0 && st.state !== "charging") this.setState("charging", "target_negative", now)
                if (targetW === 0 && st.commandW === 0) {
                    if (this.zeroSinceMs < 0) this.zeroSinceMs = now
                    if (st.state !== "stopping" && now - this.zeroSinceMs >= c.idleOpenDelayMs)
                        this.setState("stopping", "idle_" + st.limitReason, now)
                } else this.zeroSinceMs = -1
                if (st.state === "stopping") {
                    if (targetW !== 0) break
                    if (nearZero) {
                        this.setContactor(false, now)
                        this.setState("idle", "power_at_zero", now)
                    } else if (now - this.stateAtMs >= c.rampDownTimeoutMs) {
                        // Power would not fall: emergency, the contactor opens now (not a tick later).
                        this.latch("ramp_down_timeout", now)
                        st.commandW = 0
                        this.setContactor(false, now)
                        this.setState("fault", "ramp_down_timeout", now)
                    }
                }
                break
            }
        }
    }

    /** Ramp: |power| rises at rampUpWPerS; decreases (and sign changes through 0) are immediate. */
    private ramp(cmdW: number, targetW: number, dtMs: number): number {
        if (targetW === 0 || (cmdW > 0 && targetW < 0) || (cmdW < 0 && targetW > 0)) return 0
        if (Math.abs(targetW) <= Math.abs(cmdW)) return targetW
        const stepW = (this.v.rampUpWPerS * dtMs) / 1000
        if (targetW > 0) return Math.min(targetW, cmdW + stepW)
        return Math.max(targetW, cmdW - stepW)
    }

    private detectFaults(inp: V2hInput, now: number, inverterFresh: boolean) {
        const st = this.status
        const v = this.v
        const c = v.contactor
        if (inp.estop) this.latch("estop", now)
        if (inverterFresh) {
            if (Math.abs(inp.inverterW) > v.ratedPowerW * v.overloadRatio) this.latch("inverter_overload", now)
            // Judged on a reading taken at least feedbackTimeoutMs after the command (never on an
            // older reading that is still "fresh": a contact is only wrong if its feedback says so).
            const sinceContactor = inp.inverterAtMs - this.contactorCmdAtMs
            if (sinceContactor >= c.feedbackTimeoutMs) {
                if (!st.contactorCmd && (inp.contactorClosed || Math.abs(inp.inverterW) > c.weldedPowerW)) this.latch("contactor_welded", now)
                if (st.contactorCmd && !inp.contactorClosed) this.latch("contactor_stuck_open", now)
            }
            const sinceRelay = inp.inverterAtMs - this.gridRelayCmdAtMs
            if (sinceRelay >= c.feedbackTimeoutMs) {
                if (!st.gridRelayCmd && inp.gridRelayClosed) this.latch("grid_relay_welded", now)
                if (st.gridRelayCmd && !inp.gridRelayClosed) this.latch("grid_relay_stuck_open", now)
            }
        }
        for (let i = 0; i < this.outletOffSinceMs.length && i < inp.outletOn.length; i++) {
            if (inp.outletOn[i]) {
                this.outletOffSinceMs[i] = -1
                continue
            }
            if (this.outletOffSinceMs[i] < 0) this.outletOffSinceMs[i] = now
            if (now - this.outletOffSinceMs[i] >= c.feedbackTimeoutMs && inp.outletW[i] > c.weldedPowerW)
                this.latch(i === 0 ? "outlet1_relay_welded" : "outlet2_relay_welded", now)
        }
    }

    private latch(f: FaultCode, now: number) {
        if (this.latched === f) return
        // A second latched fault while one is latched is logged ONCE, the first stays reported. (It
        // used to be logged again on every tick while its cause lasted: a welded grid relay under
        // an e-stop flooded the event queue and the flash writes until the VM ran out of memory,
        // panic 60004, a restart loop on a board.)
        const i = FAULT_CODES.indexOf(f)
        if (this.alsoLatched[i]) return
        if (this.latched === "none") this.latched = f
        else this.alsoLatched[i] = true
        this.log(f, now)
        this.pushEvent(now, "fault", f)
    }

    /** Non-latched conditions: logged and announced on their rising edge. */
    private condition(i: number, active: boolean, now: number) {
        if (active === this.conditionActive[i]) return
        const f = FAULT_CODES[i]
        this.conditionActive[i] = active
        if (active) {
            this.log(f, now)
            this.pushEvent(now, "fault", f)
        } else this.pushEvent(now, "fault_cleared", f)
    }

    private log(f: FaultCode, now: number) {
        this.pushLog({ atMs: now, fault: f, boot: this.bootCount })
        this.status.lastFault = f
        this.status.lastFaultAtMs = now
    }

    private setContactor(on: boolean, now: number) {
        if (this.status.contactorCmd === on) return
        this.status.contactorCmd = on
        this.contactorCmdAtMs = now
    }

    private setGridRelay(on: boolean, now: number) {
        if (this.status.gridRelayCmd === on) return
        this.status.gridRelayCmd = on
        this.gridRelayCmdAtMs = now
    }

    private setState(s: V2hState, reason: string, now: number) {
        const st = this.status
        if (st.state === s) return
        st.state = s
        st.stateReason = reason
        this.stateAtMs = now
        this.zeroSinceMs = -1
        this.pushEvent(now, "state", reason)
    }

    private pushEvent(now: number, kind: V2hEventKind, reason: string) {
        const st = this.status
        const ev: V2hEvent = { atMs: now, kind, state: st.state, fault: kind === "fault" || kind === "fault_cleared" ? (reason as FaultCode) : "none", reason }
        if (!this.inTick) {
            // Between ticks (a command, clearFaults): kept for the next tick's events, not lost.
            if (this.betweenTicks === NO_EVENTS) this.betweenTicks = []
            this.betweenTicks.push(ev)
            return
        }
        if (st.events === NO_EVENTS) st.events = []
        st.events.push(ev)
    }
}
