// Sequencing: the supervisor's states, the ramp, and the DC contactor, grid relay and transfer
// contact steps. Given the target (after every limit), it decides what the inverter is told this
// tick. De-energised means safe: the inverter ceases to energize (ceaseCmd) unless a running state
// releases it, and the house's transfer contact rests on the grid; only backup with the grid gone
// energises it (break-before-make: the inverter stops before the house changes side).
//
// States (every transition carries a reason, reported as an event):
//   idle         contactor open, 0 W
//   starting     contactor commanded closed, waiting for its feedback
//   discharging  / charging: contactor closed, following the target
//   stopping     target 0: power ramped to ~0, then the contactor opens (never under load,
//                except in emergencies: e-stop, welded contact, inverter overload)
//   grid_lost    a grid trip without islanding (no backup, or a V/f excursion of a live grid):
//                0 W, cease to energize, contactor opened once at ~0 W; the house stays on the
//                grid; the inverter waits for the enter-service delay
//   backup       islanded supply of the house (devs.json v2h.backup.enabled), only on loss of
//                grid; retransfer after v2h.backup.retransferDelayMs in the enter-service window
//                (at once to a live grid when the island cannot carry the house)
//   fault        a latched fault: 0 W, contactor open; cleared only by clearFaults() once the
//                cause is gone (a local action, never over the network)
//
// Pure (time only from nowMs); DeviceScript subset.
import { Hysteresis } from "../common/hysteresis"
import type { GridMonitor } from "./grid-monitor"
import { Faults, isEmergency } from "./faults"
import type { V2hEvents } from "./events"
import type { V2hConfig, V2hInput, V2hStatus } from "./io"

export type V2hState = "idle" | "starting" | "discharging" | "charging" | "stopping" | "grid_lost" | "backup" | "fault"
/** Wire order (services/charger-control.md enum V2hState). */
export const V2H_STATES: V2hState[] = ["idle", "starting", "discharging", "charging", "stopping", "grid_lost", "backup", "fault"]

export class Sequencer {
    private readonly v: V2hConfig["v2h"]
    // The contact commands, with when they last changed (feedback timeouts).
    private readonly contactor = new Hysteresis(false, 0, 0, 0)
    private readonly gridRelay = new Hysteresis(false, 0, 0, 0)
    /** Target and command at 0 W (with the power near 0 when islanded) for the idle-open delay. */
    private readonly atZero: Hysteresis
    /** The returned grid held in the enter-service window while islanded (backup.retransferDelayMs). */
    private readonly gridBack: Hysteresis
    private stateAtMs = 0
    private backupIsolated = false

    constructor(
        cfg: V2hConfig,
        private readonly st: V2hStatus,
        private readonly events: V2hEvents,
        private readonly faults: Faults,
        private readonly grid: GridMonitor,
    ) {
        this.v = cfg.v2h
        this.atZero = new Hysteresis(false, cfg.v2h.contactor.idleOpenDelayMs, 0, 0)
        this.gridBack = new Hysteresis(false, cfg.v2h.backup.retransferDelayMs, 0, 0)
    }

    /**
     * Bumpless restart: the first fresh inverter reading says what the contacts do; the grid-relay
     * command starts from its feedback and both feedback timers start now.
     */
    contactsFromFeedback(inp: V2hInput, now: number) {
        this.gridRelay.reset(!!inp.gridRelayClosed, now)
        this.st.gridRelayCmd = !!inp.gridRelayClosed
        this.contactor.reset(this.contactor.state, now)
    }

    private enterBackup(reason: string, now: number) {
        this.backupIsolated = false
        this.gridBack.reset(false, now)
        this.setState("backup", reason, now)
    }

    /** ms since the contactor command last changed. */
    contactorForMs(now: number): number {
        return this.contactor.forMs(now)
    }

    /** ms since the grid-relay command last changed. */
    gridRelayForMs(now: number): number {
        return this.gridRelay.forMs(now)
    }

    setState(s: V2hState, reason: string, now: number) {
        const st = this.st
        if (st.state === s) return
        st.state = s
        st.stateReason = reason
        this.stateAtMs = now
        this.atZero.set(false, now)
        this.events.push(now, "state", reason)
    }

    /** One step of the state machine with this tick's target; sets the commands in status. */
    step(inp: V2hInput, now: number, dtMs: number, targetW: number, gridFresh: boolean, gridDown: boolean, inverterFresh: boolean) {
        const st = this.st
        const v = this.v
        const c = v.contactor
        const grid = this.grid
        const latched = this.faults.latched
        const nearZero = inverterFresh && Math.abs(inp.inverterW) < c.openBelowW
        // Islanding for backup only when the grid is really gone (not for a V/f excursion of a live grid).
        const gridGone = gridDown && grid.trip === "loss_of_grid"

        // Cease to energize by default; the running states below release it.
        st.ceaseCmd = true
        if (latched !== "none") {
            if (st.state !== "fault") this.setState("fault", latched, now)
            st.commandW = 0
            st.islandCmd = false
            st.transferCmd = false // a fault never keeps the house off the grid
            if (isEmergency(latched) || nearZero || !inverterFresh) this.setContactor(false, now)
            if (latched === "estop" || latched === "grid_relay_welded") this.setGridRelay(false, now)
            // (grid.state "ok" implies !gridDown: gridDown is a tripped or reconnecting grid.)
            else if (grid.state === "ok" && gridFresh) this.setGridRelay(true, now)
            return
        }

        // Grid trip: the inverter ceases to energize at once; a lost grid islands the house (backup).
        if (gridDown && st.state !== "backup" && st.state !== "grid_lost") {
            st.commandW = 0 // protective decrease: immediate
            if (v.backup.enabled && gridGone) this.enterBackup("grid_lost:" + grid.trip, now)
            else this.setState("grid_lost", "grid_lost:" + grid.trip, now)
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
                if (grid.state === "ok") this.setState("idle", "grid_back", now)
                // The grid went from bad to gone: island after all (backup).
                else if (v.backup.enabled && gridFresh && gridDown && !grid.live) this.enterBackup("grid_lost:loss_of_grid", now)
                return
            case "backup": {
                // Retransfer: the grid back in the enter-service window for backup.retransferDelayMs
                // (at once if the island cannot carry the house), break-before-make: the inverter
                // stops forming the island first, then the contact drops back to the grid. The
                // enter-service delay then holds the inverter, never the house.
                const backFor = this.gridBack.update(grid.live && grid.inWindow, now)
                // The island cannot carry the house: not formed (yet), nothing to give, an inverter it
                // cannot see, or the inverter at its limit.
                const cannotCarry =
                    !this.backupIsolated || targetW <= 0 || !inverterFresh || (st.commandW > 0 && inp.inverterW >= st.commandW - c.openBelowW)
                // (A live grid outside the window still beats a house the island cannot carry.)
                if (backFor || (grid.live && cannotCarry)) {
                    st.commandW = 0
                    st.islandCmd = false
                    st.transferCmd = false
                    // Not isolated from here on: the island "cannot carry" until the contact reads the
                    // grid, so a retransfer once begun completes. (Set only on the grid feedback, the
                    // 0 W command of the next tick made the island look able again: it re-islanded
                    // the house onto its overloaded island, chaos seed 59.)
                    this.backupIsolated = false
                    if (!inp.transferOnIsland) {
                        this.setState(grid.state === "ok" ? (st.contactorCmd ? "stopping" : "idle") : "grid_lost", "grid_back", now)
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
                if (this.atZero.update(targetW === 0 && nearZero && st.contactorCmd, now)) this.setContactor(false, now)
                return
            }
        }

        if (grid.state === "ok" && gridFresh) this.setGridRelay(true, now)
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
                if (this.atZero.update(targetW === 0 && st.commandW === 0, now) && st.state !== "stopping")
                    this.setState("stopping", "idle_" + st.limitReason, now)
                if (st.state === "stopping") {
                    if (targetW !== 0) break
                    if (nearZero) {
                        this.setContactor(false, now)
                        this.setState("idle", "power_at_zero", now)
                    } else if (now - this.stateAtMs >= c.rampDownTimeoutMs) {
                        // Power would not fall: emergency, the contactor opens now (not a tick later).
                        this.faults.latch("ramp_down_timeout", now)
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

    private setContactor(on: boolean, now: number) {
        this.contactor.set(on, now)
        this.st.contactorCmd = on
    }

    private setGridRelay(on: boolean, now: number) {
        this.gridRelay.set(on, now)
        this.st.gridRelayCmd = on
    }
}
