// The controller: the outlet protection and the V2H supervisor together, with the one command
// path every front end uses (Jacdac control surface, simulator, MQTT) and the status document
// that gateways publish. Commands are all-or-nothing: every key is validated (hems-command.ts)
// and checked against the current settings before anything is applied.
//
// Pure; DeviceScript subset.
import type { DevsConfig } from "../config/devs.gen"
import { isFiniteNumber } from "./num"
import { HemsCommand, parseCommand, validateCommand } from "./hems-command"
import { OutletProtection } from "./outlet-protection"
import { V2hSupervisor } from "./v2h-supervisor"

export type ControllerConfig = Pick<DevsConfig, "v2h" | "grid" | "socFloor" | "outlets" | "tripCurve" | "hems" | "persist">

/** A reading rounded to 1/scale, or null when it is not a finite number. */
function measured(x: number, scale: number): number {
    return isFiniteNumber(x) ? Math.round(x * scale) / scale : null
}

export class Controller {
    readonly protection: OutletProtection
    readonly v2h: V2hSupervisor
    /**
     * Energy counters, Wh: V2H discharge, V2H charge, accessory outlets (persist.ts EnergyCounter;
     * the shell hands its array over). Published in the status for Home Assistant's Energy panel.
     */
    energyWh: number[] = [0, 0, 0]

    constructor(private readonly cfg: ControllerConfig) {
        this.protection = new OutletProtection(cfg)
        this.v2h = new V2hSupervisor(cfg)
    }

    /** A command payload (JSON text). Returns "" when applied, else why it was rejected (nothing changed). */
    command(text: string, nowMs: number): string {
        const r = parseCommand(text, this.cfg)
        if (r.error) return r.error
        return this.apply(r.command, nowMs)
    }

    /** An already parsed command object (e.g. decoded by a gateway). Same rules as command(). */
    commandObject(obj: any, nowMs: number): string {
        const r = validateCommand(obj, this.cfg)
        if (r.error) return r.error
        return this.apply(r.command, nowMs)
    }

    private apply(c: HemsCommand, nowMs: number): string {
        const e = this.v2h.checkCommand(c)
        if (e) return e
        // Validated against the same bounds as the setters, so these cannot fail now.
        if (isFiniteNumber(c.socFloorPct)) this.protection.setSocFloor(c.socFloorPct)
        if (isFiniteNumber(c.outletPriority)) this.protection.setHighPriorityOutlet(c.outletPriority)
        this.v2h.applyCommand(c, nowMs)
        return ""
    }

    /** The status document (MQTT `<prefix>/status`, logs): snake_case keys, units in names. */
    statusJson(nowMs: number): any {
        const p = this.protection.status
        const v = this.v2h.status
        const m = this.v2h.lastReadings()
        const outlets: any[] = []
        for (let i = 0; i < p.outletOn.length; i++) outlets.push({ on: p.outletOn[i], reason: p.reason[i] })
        return {
            state: v.state,
            state_reason: v.stateReason,
            mode: v.mode,
            setpoint_w: v.setpointW,
            request_w: Math.round(v.requestW),
            request_source: v.requestSource,
            target_w: Math.round(v.targetW),
            command_w: Math.round(v.commandW),
            limit_reason: v.limitReason,
            limits: this.v2h.limits.activeReasons(),
            reserve_pct: v.reservePct,
            charge_limit_pct: v.chargeLimitPct,
            soc_floor_pct: p.socFloorPct,
            outlet_priority: p.highPriorityOutlet,
            outlets: outlets,
            // Measurements of the last V2H tick (null until the first reading or when not a number).
            soc_pct: m ? measured(m.socPct, 10) : null,
            inverter_w: m ? measured(m.inverterW, 1) : null,
            grid_w: m ? measured(m.gridW, 1) : null,
            grid_voltage_v: m ? measured(m.gridVoltageV, 10) : null,
            grid_frequency_hz: m ? measured(m.gridFrequencyHz, 100) : null,
            inverter_temp_c: m ? measured(m.inverterTempC, 10) : null,
            outlets_w: Math.round(p.totalPowerW),
            outlet_alarm: p.alarmReason,
            grid_state: v.gridState,
            grid_trip: v.gridTrip,
            fault: v.fault,
            fault_latched: v.faultLatched,
            last_fault: v.lastFault,
            last_fault_age_s: v.lastFault === "none" ? 0 : Math.round((nowMs - v.lastFaultAtMs) / 1000),
            // Whole Wh: exact in JSON up to ~10 MWh (about 7 significant digits), coarser beyond.
            energy_discharged_wh: Math.floor(this.energyWh[0]),
            energy_charged_wh: Math.floor(this.energyWh[1]),
            energy_outlets_wh: Math.floor(this.energyWh[2]),
        }
    }
}
