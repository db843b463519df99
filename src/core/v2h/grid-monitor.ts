// Grid monitor: decides from the grid meter's voltage and frequency whether the grid is fit for
// grid-tied operation, using a must-trip table (IEEE 1547-2018 category III defaults in devs.json,
// `grid`), a fast loss-of-grid check (voltage ~0: cease to energize within 2 s), and the
// enter-service rule after a trip: the grid must stay inside the enter-service window for
// `enterService.delayMs` before the controller reconnects, then power comes back along a ramp.
//
// Pure, allocation-free per tick; DeviceScript subset.
import type { DevsConfig } from "../../config/devs.gen"
import { isFiniteNumber } from "../common/num"
import { Hysteresis } from "../common/hysteresis"

export type GridState =
    | "unknown" // no reading yet since boot
    | "ok" // grid-tied operation allowed
    | "tripped" // outside the trip table (or lost): waiting for the grid to come back in band
    | "reconnecting" // back in the enter-service window, waiting out the delay

/** Wire order (services/charger-control.md enum GridState). */
export const GRID_STATES: GridState[] = ["unknown", "ok", "tripped", "reconnecting"]

export type GridTrip = "none" | "loss_of_grid" | "over_voltage" | "under_voltage" | "over_frequency" | "under_frequency" | "out_of_window"

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
    // Per table row: its threshold exceeded for its clearing time.
    private readonly ov: Hysteresis[]
    private readonly uv: Hysteresis[]
    private readonly of: Hysteresis[]
    private readonly uf: Hysteresis[]
    /** Voltage below the loss-of-grid threshold for its detection time. */
    private readonly loss: Hysteresis
    private rampStartMs = -1

    constructor(cfg: GridConfig) {
        this.g = cfg.grid
        this.ov = this.g.overVoltage.map(r => new Hysteresis(false, r.clearMs, 0, 0))
        this.uv = this.g.underVoltage.map(r => new Hysteresis(false, r.clearMs, 0, 0))
        this.of = this.g.overFrequency.map(r => new Hysteresis(false, r.clearMs, 0, 0))
        this.uf = this.g.underFrequency.map(r => new Hysteresis(false, r.clearMs, 0, 0))
        this.loss = new Hysteresis(false, this.g.lossOfGrid.detectMs, 0, 0)
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

        if (this.loss.update(pu < g.lossOfGrid.belowPu, nowMs)) tripped = "loss_of_grid"
        const live = pu >= g.lossOfGrid.belowPu
        // Every row is updated every time (its timer runs whichever trip is reported). A voltage
        // below the loss-of-grid threshold is under every under-voltage row too: a clearing time
        // runs from the start of the abnormal condition (IEEE 1547-2018), so a dip to ~0 V that
        // recovers only part-way counts from the dip, not from the partial recovery.
        for (let i = 0; i < g.overVoltage.length; i++)
            if (this.ov[i].update(live && pu > g.overVoltage[i].pu, nowMs) && tripped === "none") tripped = "over_voltage"
        for (let i = 0; i < g.underVoltage.length; i++)
            if (this.uv[i].update(pu < g.underVoltage[i].pu, nowMs) && tripped === "none") tripped = "under_voltage"
        for (let i = 0; i < g.overFrequency.length; i++)
            if (this.of[i].update(live && f > g.overFrequency[i].hz, nowMs) && tripped === "none") tripped = "over_frequency"
        for (let i = 0; i < g.underFrequency.length; i++)
            if (this.uf[i].update(live && f < g.underFrequency[i].hz, nowMs) && tripped === "none") tripped = "under_frequency"

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
}
