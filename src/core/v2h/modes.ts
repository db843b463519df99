// Local V2H modes: what the controller asks for by itself when no HEMS setpoint is in force. Each
// returns a REQUEST (signed W, + discharge); the arbitration (limits.ts) then applies every
// limit, so a mode never has to know about the reserve, the rating or the grid.
//
//  - self_consumption: discharge to hold grid import near targetImportW; never charges, never
//    exports (no_reverse_flow caps it). Changes smaller than deadbandW are ignored (no hunting).
//  - pv_surplus: charge from PV surplus; starts at startSurplusW, stops below stopSurplusW, with
//    minimum on and off times (hysteresis + dwell: the open-charger complaint about hunting).
//  - schedule: time-of-use windows from devs.json (needs the time of day, set by a gateway).
//  - idle: 0 W.
//
// The house's net demand is estimated as inverterW + gridW (grid positive = import), which does
// not depend on the inverter's own output in steady state, so these modes are feed-forward and
// do not oscillate with the inverter's lag.
//
// Pure; DeviceScript subset.
import type { DevsConfig } from "../../config/devs.gen"
import { Hysteresis } from "../common/hysteresis"

export type ModesConfig = Pick<DevsConfig, "v2h">

const DAY_S = 86400

interface Window {
    fromMin: number
    toMin: number
    powerW: number
}

function minutesOf(hhmm: string): number {
    return parseFloat(hhmm.slice(0, 2)) * 60 + parseFloat(hhmm.slice(3, 5))
}

export class LocalModes {
    private readonly v: ModesConfig["v2h"]
    private readonly windows: Window[]
    private scRequestW = 0
    /** PV-surplus charging on, with when it last changed (minimum on and off times). */
    private readonly pv = new Hysteresis(false, 0, 0, -1e12)
    private todS = NaN
    private todAtMs = 0
    /** Why the last request is what it is (for status): "", "time_unknown", "pv_waiting"... */
    note = ""

    constructor(cfg: ModesConfig) {
        this.v = cfg.v2h
        this.windows = this.v.schedule.map(w => ({ fromMin: minutesOf(w.from), toMin: minutesOf(w.to), powerW: w.powerW }))
    }

    /** Sets the local time of day (seconds since midnight) as of nowMs. Returns "" or an error. */
    setTimeOfDay(seconds: number, nowMs: number): string {
        if (!(seconds >= 0 && seconds < DAY_S)) return `time_of_day = ${seconds}: must be 0..86399 s since midnight`
        this.todS = seconds
        this.todAtMs = nowMs
        return ""
    }

    /** Local time of day in seconds, NaN when never set. */
    timeOfDayS(nowMs: number): number {
        if (this.todS !== this.todS) return NaN
        const s = this.todS + (nowMs - this.todAtMs) / 1000
        return s - Math.floor(s / DAY_S) * DAY_S
    }

    /** Forgets mode-internal state (called when the mode changes). */
    reset(nowMs: number) {
        this.scRequestW = 0
        this.pv.reset(false, nowMs - this.v.pvSurplus.minOffMs)
        this.note = ""
    }

    /**
     * The request of a local mode. houseNetW = inverterW + gridW (NaN when either reading is stale:
     * the power-based modes then ask for 0 W).
     */
    request(mode: string, nowMs: number, houseNetW: number): number {
        this.note = ""
        if (mode === "self_consumption") {
            if (houseNetW !== houseNetW) {
                this.note = "no_reading"
                this.scRequestW = 0
                return 0
            }
            const c = this.v.selfConsumption
            let want = houseNetW - c.targetImportW
            if (want < 0) want = 0
            if (Math.abs(want - this.scRequestW) > c.deadbandW || want === 0) this.scRequestW = want
            return this.scRequestW
        }
        if (mode === "pv_surplus") {
            const p = this.v.pvSurplus
            const surplusW = houseNetW === houseNetW ? -houseNetW : 0
            const pv = this.pv
            const since = pv.forMs(nowMs)
            if (!pv.state && surplusW >= p.startSurplusW && since >= p.minOffMs) pv.set(true, nowMs)
            else if (pv.state && surplusW < p.stopSurplusW && since >= p.minOnMs) pv.set(false, nowMs)
            if (!pv.state) {
                this.note = "pv_waiting"
                return 0
            }
            const w = surplusW - p.marginW
            return w > 0 ? -w : 0
        }
        if (mode === "schedule") {
            const tod = this.timeOfDayS(nowMs)
            if (tod !== tod) {
                this.note = "time_unknown"
                return 0
            }
            const m = Math.floor(tod / 60)
            for (const w of this.windows) {
                const inside = w.fromMin < w.toMin ? m >= w.fromMin && m < w.toMin : m >= w.fromMin || m < w.toMin
                if (inside) return w.powerW
            }
            return 0
        }
        return 0
    }
}
