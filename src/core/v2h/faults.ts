// V2H faults: the codes, which of them latch and which are conditions, their detection from the
// inputs, the fault log (persisted across restarts) and the rules for clearing and restoring.
//
//  - A LATCHED fault (e-stop, welded or stuck contacts, inverter overload, ramp-down timeout)
//    holds the supervisor in `fault` (0 W, contactor open) until clear_faults, which is refused
//    while its cause is still there (a local action, never over the network). A second latched
//    fault while one is latched is logged and announced; the first stays reported.
//  - A CONDITION (stale readings, grid lost) forces 0 W while present and clears by itself; it is
//    logged and announced on its rising edge, and announced again when it clears.
//
// Pure (time only from nowMs); DeviceScript subset.
import { Hysteresis } from "../common/hysteresis"
import type { V2hConfig, V2hInput, V2hStatus } from "./io"
import type { V2hEvents } from "./events"

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
    | "outlet3_relay_welded"
    | "outlet4_relay_welded"
    | "inverter_overload"
    | "ramp_down_timeout"
    // conditions (force 0 W while present, clear by themselves):
    | "battery_stale"
    | "inverter_stale"
    | "grid_meter_stale"
    | "grid_lost"
/**
 * Wire order: FAULT_CODES[code] (services/charger-control.md enum Fault). Append-only: a new fault
 * takes the next free code, whether it latches or not (CONDITIONS says which do not).
 */
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
    "outlet3_relay_welded",
    "outlet4_relay_welded",
]
/** The conditions, in the order status reports them when several are active; every other code but "none" latches. */
const CONDITIONS: FaultCode[] = ["battery_stale", "inverter_stale", "grid_meter_stale", "grid_lost"]
const CONDITION_CODES: number[] = CONDITIONS.map(f => FAULT_CODES.indexOf(f))
// Conditions by index (the tick's hot path: no string search).
export const F_BATTERY_STALE = FAULT_CODES.indexOf("battery_stale")
export const F_INVERTER_STALE = FAULT_CODES.indexOf("inverter_stale")
export const F_GRID_METER_STALE = FAULT_CODES.indexOf("grid_meter_stale")
export const F_GRID_LOST = FAULT_CODES.indexOf("grid_lost")

/** True for the codes that latch (a known code, not "none", not a condition). */
export function isLatching(f: string): boolean {
    return f !== "none" && FAULT_CODES.indexOf(f as FaultCode) >= 0 && CONDITIONS.indexOf(f as FaultCode) < 0
}

/** The welded-relay fault of outlet i (0-based): outlet<i+1>_relay_welded, for every outlet count devs.json allows. */
export function outletWeldedFault(i: number): FaultCode {
    return ("outlet" + (i + 1) + "_relay_welded") as FaultCode
}

/** Faults that open the DC contactor at once, under load if need be. */
export function isEmergency(f: FaultCode): boolean {
    return f === "estop" || f === "contactor_welded" || f === "inverter_overload" || f === "ramp_down_timeout"
}

export interface FaultLogEntry {
    /** Uptime of that boot when it happened, ms. */
    atMs: number
    fault: FaultCode
    /** Boot number (see bootCount). */
    boot: number
}

export class Faults {
    /** The latched fault ("none" when none). */
    latched: FaultCode = "none"
    /** Most recent last; at most persist.faultLogEntries entries; persisted across restarts. */
    readonly log: FaultLogEntry[] = []
    /** This run's boot number (1 on a first boot; set from the stored record by persist.restore). */
    bootCount = 1
    private readonly conditionActive: boolean[] = []
    /** Per outlet: its relay commanded off for the feedback timeout. */
    private readonly outletOff: Hysteresis[] = []

    constructor(
        private readonly cfg: V2hConfig,
        private readonly st: V2hStatus,
        private readonly events: V2hEvents,
    ) {
        for (let i = 0; i < FAULT_CODES.length; i++) this.conditionActive.push(false)
        for (let i = 0; i < cfg.outlets.count; i++) this.outletOff.push(new Hysteresis(false, cfg.v2h.contactor.feedbackTimeoutMs, 0, 0))
    }

    /**
     * Latches the faults the inputs show. The contacts are judged against their commands once the
     * feedback timeout has passed since the command last changed (contactorForMs, gridRelayForMs).
     */
    detect(inp: V2hInput, now: number, inverterFresh: boolean, contactorForMs: number, gridRelayForMs: number) {
        const st = this.st
        const v = this.cfg.v2h
        const c = v.contactor
        if (inp.estop) this.latch("estop", now)
        if (inverterFresh) {
            if (Math.abs(inp.inverterW) > v.ratedPowerW * v.overloadRatio) this.latch("inverter_overload", now)
            if (contactorForMs >= c.feedbackTimeoutMs) {
                if (!st.contactorCmd && (inp.contactorClosed || Math.abs(inp.inverterW) > c.weldedPowerW)) this.latch("contactor_welded", now)
                if (st.contactorCmd && !inp.contactorClosed) this.latch("contactor_stuck_open", now)
            }
            if (gridRelayForMs >= c.feedbackTimeoutMs) {
                if (!st.gridRelayCmd && inp.gridRelayClosed) this.latch("grid_relay_welded", now)
                if (st.gridRelayCmd && !inp.gridRelayClosed) this.latch("grid_relay_stuck_open", now)
            }
        }
        for (let i = 0; i < this.outletOff.length && i < inp.outletOn.length; i++)
            if (this.outletOff[i].update(!inp.outletOn[i], now) && inp.outletW[i] > c.weldedPowerW)
                this.latch(outletWeldedFault(i), now)
    }

    latch(f: FaultCode, now: number) {
        if (this.latched === f) return
        if (this.latched === "none") this.latched = f
        this.logFault(f, now)
        this.events.push(now, "fault", f)
    }

    /** Condition i (index into FAULT_CODES) is `active` now: logged and announced on its edges. */
    condition(i: number, active: boolean, now: number) {
        if (active === this.conditionActive[i]) return
        const f = FAULT_CODES[i]
        this.conditionActive[i] = active
        if (active) {
            this.logFault(f, now)
            this.events.push(now, "fault", f)
        } else this.events.push(now, "fault_cleared", f)
    }

    /** Sets status.fault (latched first, else the first active condition) and status.faultLatched. */
    report() {
        const st = this.st
        st.faultLatched = this.latched !== "none"
        st.fault = this.latched
        if (st.fault === "none")
            for (let k = 0; k < CONDITION_CODES.length; k++)
                if (this.conditionActive[CONDITION_CODES[k]]) {
                    st.fault = CONDITIONS[k]
                    break
                }
    }

    /** Why the latched fault cannot be cleared with these inputs (null before the first tick), "" when it can. */
    clearRefusal(inp: V2hInput): string {
        if (!inp) return ""
        const st = this.st
        if (inp.estop) return "cannot clear faults: the e-stop is still pressed"
        if (!st.contactorCmd && inp.contactorClosed) return "cannot clear faults: the DC contactor still reads closed (welded)"
        if (!st.gridRelayCmd && inp.gridRelayClosed && this.latched === "grid_relay_welded") return "cannot clear faults: the grid relay still reads closed (welded)"
        for (let i = 0; i < inp.outletOn.length; i++)
            if (!inp.outletOn[i] && inp.outletW[i] > this.cfg.v2h.contactor.weldedPowerW)
                return `cannot clear faults: outlet ${i + 1} still delivers ${Math.round(inp.outletW[i])} W with its relay off (welded)`
        return ""
    }

    /** Clears the latch (the caller checked clearRefusal) and announces it. */
    clear(now: number) {
        const was = this.latched
        this.latched = "none"
        this.events.push(now, "fault_cleared", was)
    }

    /** Restores a latched fault after a restart. Returns "" or why the value was refused. */
    restore(fault: string): string {
        if (FAULT_CODES.indexOf(fault as FaultCode) < 0) return "fault " + fault + " is unknown"
        if (fault !== "none" && !isLatching(fault)) return "fault " + fault + " is a condition, not a latched fault"
        this.latched = fault as FaultCode
        return ""
    }

    /** Puts back the fault log of earlier boots (oldest first; entries are assumed valid). */
    restoreLog(entries: FaultLogEntry[]) {
        for (const e of entries) this.pushLog(e)
    }

    private pushLog(e: FaultLogEntry) {
        if (this.log.length >= this.cfg.persist.faultLogEntries) this.log.shift()
        this.log.push(e)
    }

    private logFault(f: FaultCode, now: number) {
        this.pushLog({ atMs: now, fault: f, boot: this.bootCount })
        this.st.lastFault = f
        this.st.lastFaultAtMs = now
    }
}
