// Grid monitor: decides from the grid meter's voltage and frequency whether the grid is fit for
// grid-tied operation, using a must-trip table (IEEE 1547-2018 category III defaults in devs.json,
// `grid`), a fast loss-of-grid check (voltage ~0: cease to energize within 2 s), and the
// enter-service rule after a trip: the grid must stay inside the enter-service window for
// `enterService.delayMs` before the controller reconnects, then power comes back along a ramp.
//
// Pure, allocation-free per tick; DeviceScript subset.
import type { DevsConfig } from "../config/devs.gen"
import { isFiniteNumber } from "./num"

export type GridState =
    | "unknown" // no reading yet since boot
    | "ok" // grid-tied operation allowed
    | "tripped" // outside the trip table (or lost): waiting for the grid to come back in band
    | "reconnecting" // back in the enter-service window, waiting out the delay

/** Wire order (services/charger-control.md enum GridState). */
export const GRID_STATES: GridState[] = ["unknown", "ok", "tripped", "reconnecting"]

export type GridTrip = "none" | "loss_of_grid" | "over_voltage" | "under_voltage" | "over_frequency" | "under_frequency" | "out_of_window"
export const GRID_TRIPS: GridTrip[] = ["none", "loss_of_grid", "over_voltage", "under_voltage", "over_frequency", "under_frequency", "out_of_window"]

export type GridConfig = Pick<DevsConfig, "grid">

export class GridMonitor {
    state: GridState = "unknown"
    /** Why the grid last tripped ("none" before the first trip). */
    trip: GridTrip = "none"
    tripAtMs = 0
    /** When the grid came back into the enter-service window (reconnecting), or when it reconnected (ok). */
    sinceMs = 0
    /** 0..1: fraction of the rating allowed by the enter-service ramp (1 outside a ramp). */
    rampFraction = 1
    /** The last reading shows a live grid (voltage above the loss-of-grid threshold). */
    live = false
    /** The last reading is inside the enter-service window. */
    inWindow = false
    private readonly g: GridConfig["grid"]
    // Time each threshold has been exceeded since (-1 = not exceeded), per table row.
    private readonly ovSince: number[]
    private readonly uvSince: number[]
    private readonly ofSince: number[]
    private readonly ufSince: number[]
    private lossSince = -1
    private rampStartMs = -1

    constructor(cfg: GridConfig) {
        this.g = cfg.grid
        this.ovSince = this.g.overVoltage.map(() => -1)
        this.uvSince = this.g.underVoltage.map(() => -1)
        this.ofSince = this.g.overFrequency.map(() => -1)
        this.ufSince = this.g.underFrequency.map(() => -1)
    }

    /**
     * One evaluation with the latest reading. A non-finite reading counts as no grid. Staleness
     * is judged by the caller (a stale meter forces 0 W but is not a grid trip).
     */
    update(nowMs: number, voltageV: number, frequencyHz: number): GridState {
        const g = this.g
        const v = isFiniteNumber(voltageV) ? voltageV : 0
        const f = isFiniteNumber(frequencyHz) ? frequencyHz : 0
        const pu = v / g.nominalVoltageV
        let tripped: GridTrip = "none"

        if (pu < g.lossOfGrid.belowPu) {
            if (this.lossSince < 0) this.lossSince = nowMs
            if (nowMs - this.lossSince >= g.lossOfGrid.detectMs) tripped = "loss_of_grid"
        } else this.lossSince = -1
        const live = pu >= g.lossOfGrid.belowPu
        for (let i = 0; i < g.overVoltage.length; i++)
            if (this.exceeded(this.ovSince, i, live && pu > g.overVoltage[i].pu, nowMs, g.overVoltage[i].clearMs) && tripped === "none")
                tripped = "over_voltage"
        for (let i = 0; i < g.underVoltage.length; i++)
            if (this.exceeded(this.uvSince, i, live && pu < g.underVoltage[i].pu, nowMs, g.underVoltage[i].clearMs) && tripped === "none")
                tripped = "under_voltage"
        for (let i = 0; i < g.overFrequency.length; i++)
            if (this.exceeded(this.ofSince, i, live && f > g.overFrequency[i].hz, nowMs, g.overFrequency[i].clearMs) && tripped === "none")
                tripped = "over_frequency"
        for (let i = 0; i < g.underFrequency.length; i++)
            if (this.exceeded(this.ufSince, i, live && f < g.underFrequency[i].hz, nowMs, g.underFrequency[i].clearMs) && tripped === "none")
                tripped = "under_frequency"

        const e = g.enterService
        const inWindow = live && pu >= e.minPu && pu <= e.maxPu && f >= e.minHz && f <= e.maxHz
        this.live = live
        this.inWindow = inWindow

        if (tripped !== "none") {
            if (this.state === "ok" || this.state === "unknown" || this.state === "reconnecting") {
                this.trip = tripped
                this.tripAtMs = nowMs
            }
            this.state = "tripped"
            this.rampFraction = 0
            return this.state
        }
        switch (this.state) {
            case "unknown":
                // At power-up the controller starts on the first in-window reading (no delay: the
                // enter-service delay applies after a trip); outside the window it waits like after a trip.
                if (inWindow) this.connect(nowMs, false)
                else if (live) {
                    this.state = "tripped"
                    this.trip = "out_of_window"
                    this.tripAtMs = nowMs
                    this.rampFraction = 0
                }
                break
            case "tripped":
                if (inWindow) {
                    this.state = "reconnecting"
                    this.sinceMs = nowMs
                }
                break
            case "reconnecting":
                if (!inWindow) this.state = "tripped"
                else if (nowMs - this.sinceMs >= e.delayMs) this.connect(nowMs, true)
                break
            case "ok":
                break
        }
        if (this.state === "ok") {
            if (this.rampStartMs < 0 || e.rampMs <= 0) this.rampFraction = 1
            else {
                const fr = (nowMs - this.rampStartMs) / e.rampMs
                if (fr >= 1) {
                    this.rampFraction = 1
                    this.rampStartMs = -1
                } else this.rampFraction = fr
            }
        }
        return this.state
    }

    private connect(nowMs: number, ramp: boolean) {
        this.state = "ok"
        this.sinceMs = nowMs
        this.rampStartMs = ramp ? nowMs : -1
        this.rampFraction = ramp ? 0 : 1
    }

    // True when condition `over` has held for at least clearMs (resets when it stops).
    private exceeded(since: number[], i: number, over: boolean, nowMs: number, clearMs: number): boolean {
        if (!over) {
            since[i] = -1
            return false
        }
        if (since[i] < 0) since[i] = nowMs
        return nowMs - since[i] >= clearMs
    }
}
