// Freshness of the supervisor's three data sources and every limit it claims. Each limit is a
// claim on the one arbitration place (limits.ts: LimitSet, the priority order, the governing
// reason); this file says WHEN each limit is in force and HOW FAR it reaches:
//   safety:   e-stop / latched fault / no e-stop input, stale battery, inverter or grid meter,
//             grid lost or reconnecting, the enter-service ramp, the rating, over-temperature
//             (derating, with a stop/resume hysteresis), the vehicle's current limits, no reverse
//             flow, the grid import limit, the islanded limit, the direction dwell;
//   outlets:  the accessory outlets come first (vehicle allowance minus their draw);
//   SoC:      the reserve (discharge) and the charge limit (charging), each with a hysteresis.
//
// Pure (time only from nowMs), allocation-free per tick; DeviceScript subset.
import { isFiniteNumber } from "../common/num"
import { Hysteresis } from "../common/hysteresis"
import type { GridMonitor } from "./grid-monitor"
import { LIMIT_PRIORITY, LimitSet } from "./limits"
import type { Faults } from "./faults"
import type { V2hConfig, V2hInput, V2hStatus } from "./io"

// Priority slots of the limit reasons (claims by slot: string searches cost in the VM's hot path).
const R_ESTOP = LIMIT_PRIORITY.indexOf("estop")
const R_FAULT = LIMIT_PRIORITY.indexOf("fault")
const R_BATTERY_STALE = LIMIT_PRIORITY.indexOf("battery_stale")
const R_INVERTER_STALE = LIMIT_PRIORITY.indexOf("inverter_stale")
const R_GRID_METER_STALE = LIMIT_PRIORITY.indexOf("grid_meter_stale")
const R_GRID_LOST = LIMIT_PRIORITY.indexOf("grid_lost")
const R_GRID_RECONNECTING = LIMIT_PRIORITY.indexOf("grid_reconnecting")
const R_ENTER_SERVICE_RAMP = LIMIT_PRIORITY.indexOf("enter_service_ramp")
const R_RATING = LIMIT_PRIORITY.indexOf("rating")
const R_OVER_TEMPERATURE = LIMIT_PRIORITY.indexOf("over_temperature")
const R_VEHICLE_DISCHARGE_LIMIT = LIMIT_PRIORITY.indexOf("vehicle_discharge_limit")
const R_VEHICLE_CHARGE_LIMIT = LIMIT_PRIORITY.indexOf("vehicle_charge_limit")
const R_NO_REVERSE_FLOW = LIMIT_PRIORITY.indexOf("no_reverse_flow")
const R_GRID_IMPORT_LIMIT = LIMIT_PRIORITY.indexOf("grid_import_limit")
const R_ISLANDED_LIMIT = LIMIT_PRIORITY.indexOf("islanded_limit")
const R_DIRECTION_DWELL = LIMIT_PRIORITY.indexOf("direction_dwell")
const R_OUTLET_SHARE = LIMIT_PRIORITY.indexOf("outlet_share")
const R_SOC_RESERVE = LIMIT_PRIORITY.indexOf("soc_reserve")
const R_CHARGE_LIMIT = LIMIT_PRIORITY.indexOf("charge_limit")
/** The open side of a one-sided claim. */
const UNLIMITED_W = 1e12

/** Battery data is usable: recent (socFloor.socTimeoutMs) and SoC and voltage are numbers. */
export function batteryFresh(inp: V2hInput, nowMs: number, cfg: V2hConfig): boolean {
    return nowMs - inp.batteryAtMs <= cfg.socFloor.socTimeoutMs && isFiniteNumber(inp.socPct) && isFiniteNumber(inp.batteryVoltageV)
}

/** The inverter's reading is usable: recent (v2h.readingTimeoutMs) and its power a number. */
export function inverterFresh(inp: V2hInput, nowMs: number, cfg: V2hConfig): boolean {
    return nowMs - inp.inverterAtMs <= cfg.v2h.readingTimeoutMs && isFiniteNumber(inp.inverterW)
}

/** The grid meter's reading is recent (v2h.readingTimeoutMs); its values are judged by the grid monitor. */
export function gridFresh(inp: V2hInput, nowMs: number, cfg: V2hConfig): boolean {
    return nowMs - inp.gridAtMs <= cfg.v2h.readingTimeoutMs
}

export class Claims {
    private readonly v: V2hConfig["v2h"]
    private readonly overTemperature = new Hysteresis(false, 0, 0, 0)
    private readonly reserve = new Hysteresis(false, 0, 0, 0)
    private readonly chargeFull = new Hysteresis(false, 0, 0, 0)
    // Direction dwell: the sign of the last non-zero command, and when it was last non-zero.
    private lastDirection = 0
    private directionZeroAtMs = -1e12

    constructor(
        cfg: V2hConfig,
        private readonly faults: Faults,
        private readonly grid: GridMonitor,
    ) {
        this.v = cfg.v2h
    }

    /**
     * Clears L and claims every limit in force for this tick. houseNetW = inverterW + gridW (NaN
     * when either reading is stale).
     */
    claim(L: LimitSet, inp: V2hInput, st: V2hStatus, now: number, batteryOk: boolean, inverterOk: boolean, gridOk: boolean) {
        const v = this.v
        const latched = this.faults.latched
        const grid = this.grid
        L.clear()
        if (latched !== "none") L.claimAt(latched === "estop" ? R_ESTOP : R_FAULT, 0, 0)
        else if (inp.estopAvailable === false) L.claimAt(R_ESTOP, 0, 0)
        if (!batteryOk) L.claimAt(R_BATTERY_STALE, 0, 0)
        if (!inverterOk) L.claimAt(R_INVERTER_STALE, 0, 0)
        const islanded = st.state === "backup"
        if (!islanded) {
            if (!gridOk) L.claimAt(R_GRID_METER_STALE, 0, 0)
            else if (grid.state === "reconnecting") L.claimAt(R_GRID_RECONNECTING, 0, 0)
            else if (grid.state !== "ok") L.claimAt(R_GRID_LOST, 0, 0)
            else if (grid.rampFraction < 1) {
                const w = v.ratedPowerW * grid.rampFraction
                L.claimAt(R_ENTER_SERVICE_RAMP, -w, w)
            }
        } else L.claimAt(R_ISLANDED_LIMIT, 0, v.backup.islandedLimitW)
        L.claimAt(R_RATING, -v.ratedPowerW, v.ratedPowerW)
        if (inverterOk) {
            const d = v.derating
            const t = inp.inverterTempC
            const stop = this.overTemperature.band(t >= d.stopC, t < d.resumeBelowC, now)
            let factor = (d.stopC - t) / (d.stopC - d.startC)
            if (stop || !(factor > 0)) factor = 0
            if (factor < 1) L.claimAt(R_OVER_TEMPERATURE, -v.ratedPowerW * factor, v.ratedPowerW * factor)
        }
        let allowanceW = 0
        if (batteryOk) {
            const dis = isFiniteNumber(inp.maxDischargeCurrentA) ? Math.max(0, inp.maxDischargeCurrentA) : 0
            const chg = isFiniteNumber(inp.maxChargeCurrentA) ? Math.max(0, inp.maxChargeCurrentA) : 0
            allowanceW = dis * inp.batteryVoltageV * v.inverterEfficiency
            L.claimAt(R_VEHICLE_DISCHARGE_LIMIT, -UNLIMITED_W, allowanceW)
            L.claimAt(R_VEHICLE_CHARGE_LIMIT, -(chg * inp.batteryVoltageV) / v.inverterEfficiency, UNLIMITED_W)
        }
        if (!islanded && gridOk && inverterOk && isFiniteNumber(inp.gridW)) {
            const houseNetW = inp.inverterW + inp.gridW
            if (!v.reverseFlowAllowed) L.claimAt(R_NO_REVERSE_FLOW, -UNLIMITED_W, houseNetW - v.exportMarginW)
            L.claimAt(R_GRID_IMPORT_LIMIT, -(v.maxGridImportW - houseNetW), UNLIMITED_W)
        }
        if (this.lastDirection !== 0 && now - this.directionZeroAtMs < v.directionDwellMs && st.commandW === 0) {
            // Just came down from one direction: the other one waits out the dwell.
            if (this.lastDirection > 0) L.claimAt(R_DIRECTION_DWELL, 0, UNLIMITED_W)
            else L.claimAt(R_DIRECTION_DWELL, -UNLIMITED_W, 0)
        }
        const outletsW = isFiniteNumber(inp.outletsW) && inp.outletsW > 0 ? inp.outletsW : 0
        if (batteryOk && outletsW > 0) L.claimAt(R_OUTLET_SHARE, -UNLIMITED_W, allowanceW - outletsW)
        if (batteryOk) {
            const soc = inp.socPct
            if (this.reserve.band(soc <= st.reservePct, soc > st.reservePct + v.socHysteresisPct, now)) L.claimAt(R_SOC_RESERVE, -UNLIMITED_W, 0)
            if (this.chargeFull.band(soc >= st.chargeLimitPct, soc < st.chargeLimitPct - v.socHysteresisPct, now)) L.claimAt(R_CHARGE_LIMIT, 0, UNLIMITED_W)
        }
    }

    /** After the tick: the command sent, for the direction dwell. */
    commandSent(commandW: number, now: number) {
        if (commandW > 0) this.lastDirection = 1
        else if (commandW < 0) this.lastDirection = -1
        if (commandW !== 0) this.directionZeroAtMs = now
    }
}
