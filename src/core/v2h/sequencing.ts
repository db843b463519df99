// Sequencing: the supervisor's states, the ramp, and the DC contactor and grid relay steps. Given
// the target (after every limit), it decides what the inverter is told this tick.
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

        if (latched !== "none") {
            if (st.state !== "fault") this.setState("fault", latched, now)
            st.commandW = 0
            st.islandCmd = false
            if (isEmergency(latched) || nearZero || !inverterFresh) this.setContactor(false, now)
            if (latched === "estop" || latched === "grid_relay_welded") this.setGridRelay(false, now)
            else if (grid.state === "ok" && !gridDown && gridFresh) this.setGridRelay(true, now)
            return
        }

        // Grid loss: island (backup) or stop.
        if (gridDown && st.state !== "backup" && st.state !== "grid_lost") {
            st.commandW = 0 // protective decrease: immediate
            this.backupIsolated = false
            if (v.backup.enabled) this.setState("backup", "grid_lost:" + grid.trip, now)
            else this.setState("grid_lost", "grid_lost:" + grid.trip, now)
        }

        switch (st.state) {
            case "grid_lost":
                // No backup: the inverter stops (the grid relay stays closed, so the house gets the
                // grid back the moment it returns); the inverter re-energizes only after the
                // enter-service delay (grid monitor "reconnecting" -> "ok").
                st.commandW = 0
                st.islandCmd = false
                if (nearZero || !inverterFresh) this.setContactor(false, now)
                if (grid.state === "ok") this.setState("idle", "grid_back", now)
                return
            case "backup":
                if (grid.state === "ok") {
                    // Grid back in band for the enter-service delay: stop islanding, then reconnect.
                    st.commandW = 0
                    st.islandCmd = false
                    if (nearZero) {
                        this.setGridRelay(true, now)
                        if (inp.gridRelayClosed) this.setState(st.contactorCmd ? "stopping" : "idle", "grid_back", now)
                    }
                    return
                }
                if (!this.backupIsolated) {
                    st.commandW = 0
                    st.islandCmd = false
                    this.setGridRelay(false, now)
                    if (!inp.gridRelayClosed) this.backupIsolated = true
                    return
                }
                st.islandCmd = true
                if (targetW > 0) this.setContactor(true, now)
                st.commandW = inp.contactorClosed ? this.ramp(st.commandW, targetW, dtMs) : 0
                if (this.atZero.update(targetW === 0 && nearZero && st.contactorCmd, now)) this.setContactor(false, now)
                return
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
