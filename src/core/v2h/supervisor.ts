// V2H supervisor: follows the HEMS setpoint or the local mode within every limit, shares the
// battery with the accessory outlets, ramps, sequences the DC contactor and the grid relay, rides
// through grid loss (backup/islanding or stop), and latches faults. This file chooses the request
// and runs one tick in order; each idea has its own file:
//
//   inputs -> freshness, grid monitor (grid-monitor.ts), faults (faults.ts: detection, latches,
//             conditions, the log)
//          -> request (HEMS setpoint | fallback after the command timeout | local mode
//             (modes.ts) | backup)
//          -> every limit claimed (claims.ts) on the one arbitration place (limits.ts)
//          -> target -> states, ramp, contactor and grid relay (sequencing.ts) -> status
//
// What it reads and reports is in io.ts; its events in events.ts.
// Pure and deterministic (time only from input.nowMs); DeviceScript subset.
import { isFiniteNumber } from "../common/num"
import { GridMonitor } from "./grid-monitor"
import { LimitSet, RequestSource } from "./limits"
import { LocalModes } from "./modes"
import { HemsCommand, V2hMode } from "../hems/command"
import { F_BATTERY_STALE, F_GRID_LOST, F_GRID_METER_STALE, F_INVERTER_STALE, FaultCode, FaultLogEntry, Faults } from "./faults"
import { Claims, batteryFresh, gridFresh, inverterFresh } from "./claims"
import { Sequencer } from "./sequencing"
import { NO_EVENTS, V2hEvents } from "./events"
import type { V2hConfig, V2hInput, V2hStatus } from "./io"

export class V2hSupervisor {
    readonly status: V2hStatus
    readonly faults: Faults
    /** Most recent last; at most persist.faultLogEntries entries; persisted across restarts. */
    readonly faultLog: FaultLogEntry[]
    readonly grid: GridMonitor
    readonly limits = new LimitSet()
    private readonly modes: LocalModes
    private readonly claims: Claims
    private readonly seq: Sequencer
    private readonly events: V2hEvents
    private readonly v: V2hConfig["v2h"]
    private readonly cfg: V2hConfig
    private lastNowMs = -1
    private lastCommandMs = -1e12
    private timedOut = false
    private lastInput: V2hInput = null

    constructor(cfg: V2hConfig) {
        this.cfg = cfg
        this.v = cfg.v2h
        this.grid = new GridMonitor(cfg)
        this.modes = new LocalModes(cfg)
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
        this.events = new V2hEvents(this.status)
        this.faults = new Faults(cfg, this.status, this.events)
        this.faultLog = this.faults.log
        this.claims = new Claims(cfg, this.faults, this.grid)
        this.seq = new Sequencer(cfg, this.status, this.events, this.faults, this.grid)
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
                this.events.push(nowMs, "mode", c.mode)
            }
            if (c.mode === "setpoint") this.status.setpointW = c.setpointW
        }
    }

    /** The latched fault ("none" when none). */
    latchedFault(): FaultCode {
        return this.faults.latched
    }

    /**
     * Restores a latched fault after a restart (before the first tick): the controller comes up in
     * `fault` and needs the same clear_faults as before. Returns "" or why the value was refused.
     */
    restoreFault(fault: string, nowMs: number): string {
        const e = this.faults.restore(fault)
        if (e) return e
        if (fault !== "none") this.seq.setState("fault", "restored:" + fault, nowMs)
        return ""
    }

    /** Puts back the fault log of earlier boots (oldest first; entries are assumed valid). */
    restoreLog(entries: FaultLogEntry[]) {
        this.faults.restoreLog(entries)
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
        if (this.faults.latched === "none") return ""
        const e = this.faults.clearRefusal(this.lastInput)
        if (e) return e
        this.faults.clear(nowMs)
        this.seq.setState("idle", "faults_cleared", nowMs)
        return ""
    }

    /** True when the inverter's reading is recent (v2h.readingTimeoutMs) and a number: only then is inverterW used. */
    inverterFresh(inp: V2hInput, nowMs: number): boolean {
        return inverterFresh(inp, nowMs, this.cfg)
    }

    /** The inputs of the last tick (null before the first): the measurements the status document shows. */
    lastReadings(): V2hInput {
        return this.lastInput
    }

    // ------------------------------------------------------------------ tick

    tick(inp: V2hInput): V2hStatus {
        this.events.beginTick()
        try {
            return this.tickInner(inp)
        } finally {
            this.events.endTick()
        }
    }

    private tickInner(inp: V2hInput): V2hStatus {
        const st = this.status
        const v = this.v
        const now = inp.nowMs
        const dtMs = this.lastNowMs < 0 ? 0 : Math.max(0, now - this.lastNowMs)
        this.lastNowMs = now
        this.lastInput = inp

        // Freshness of the three data sources, the grid, the faults.
        const batteryOk = batteryFresh(inp, now, this.cfg)
        const inverterOk = inverterFresh(inp, now, this.cfg)
        const gridOk = gridFresh(inp, now, this.cfg)
        if (gridOk) this.grid.update(now, inp.gridVoltageV, inp.gridFrequencyHz)
        st.gridState = this.grid.state
        st.gridTrip = this.grid.trip
        const gridDown = gridOk && (this.grid.state === "tripped" || this.grid.state === "reconnecting")
        const f = this.faults
        f.condition(F_BATTERY_STALE, !batteryOk, now)
        f.condition(F_INVERTER_STALE, !inverterOk, now)
        f.condition(F_GRID_METER_STALE, !gridOk, now)
        f.condition(F_GRID_LOST, gridDown, now)
        f.detect(inp, now, inverterOk, this.seq.contactorForMs(now), this.seq.gridRelayForMs(now))

        // ---- request
        let requestW = 0
        let source: RequestSource = "idle"
        const mode = st.mode
        if (st.state === "backup") {
            requestW = v.backup.islandedLimitW
            source = "backup"
        } else if (mode === "setpoint") {
            if (now - this.lastCommandMs > v.commandTimeoutMs) {
                if (!this.timedOut) {
                    this.timedOut = true
                    this.events.push(now, "command_timeout", "fallback")
                }
                requestW = v.fallbackSetpointW
                source = "fallback"
            } else {
                requestW = st.setpointW
                source = "hems"
            }
        } else if (mode !== "idle") {
            const houseNetW = inverterOk && gridOk && isFiniteNumber(inp.gridW) ? inp.inverterW + inp.gridW : NaN
            requestW = this.modes.request(mode, now, houseNetW)
            source = "local"
        }
        st.modeNote = this.modes.note
        st.requestW = requestW
        st.requestSource = source

        // ---- limits (one place; see limits.ts for the priority order)
        const L = this.limits
        this.claims.claim(L, inp, st, now, batteryOk, inverterOk, gridOk)
        const targetW = L.resolve(requestW)
        st.targetW = targetW
        st.limitReason = L.governing
        st.limitMask = L.mask
        st.limitLoW = L.windowLoW
        st.limitHiW = L.windowHiW

        // ---- state machine and actuators
        this.seq.step(inp, now, dtMs, targetW, gridOk, gridDown, inverterOk)
        this.claims.commandSent(st.commandW, now)
        f.report()
        return st
    }
}
