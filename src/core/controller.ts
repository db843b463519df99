// The controller: the outlet protection and the V2H supervisor together, with the one command
// path every front end uses (Jacdac control surface, simulator, MQTT) and the status document
// that gateways publish. Commands are all-or-nothing: every key is validated (hems/command.ts)
// and checked against the current settings before anything is applied.
//
// It also holds every decision that joins the two sides, so the firmware shell (main.ts) only
// reads inputs, calls these and writes what they return:
//  - the e-stop: pressed, it cuts the outlets at once; latched by the supervisor, it keeps them
//    cut until the fault is cleared (and across a restart);
//  - the outlet readings the supervisor sees (the outlet core's one staleness judgement);
//  - the outlets' second means, the supply contactor (outlets/outlet-supply.ts), decided in the
//    same protection tick from the same fresh readings;
//  - the restart (stored record -> cores) and when to write the record again, with the energy
//    counters integrated from fresh readings only;
//  - the alarm (outlet alarm or a latched V2H fault);
//  - the inverter writes in a safe order (v2h/inverter-writes.ts), the power stage's keepalive
//    with them;
//  - the outlet relay and supply contactor writes in a safe order (outlets/outlet-writes.ts).
//
// Pure; DeviceScript subset.
import type { DevsConfig } from "../config/devs.gen"
import { isFiniteNumber } from "./common/num"
import { CommandResult, HemsCommand, parseCommand, validateCommand } from "./hems/command"
import { OutletProtection } from "./outlets/protection"
import { ProtectionInput, ProtectionStatus } from "./outlets/io"
import { V2hSupervisor } from "./v2h/supervisor"
import type { V2hInput, V2hStatus } from "./v2h/io"
import { InverterWrites } from "./v2h/inverter-writes"
import { EnergyCounter, Persisted, PersistScheduler, capture, restore, validatePersisted } from "./persist"
import { LoopHealth } from "./common/loop-health"
import { OutletSupply } from "./outlets/outlet-supply"
import { OutletWrites } from "./outlets/outlet-writes"

export type ControllerConfig = Pick<DevsConfig, "v2h" | "grid" | "socFloor" | "outlets" | "tripCurve" | "hems" | "persist" | "ticks" | "powerStage">

/** A reading rounded to 1/scale, or null when it is not a finite number. */
function measured(x: number, scale: number): number {
    return isFiniteNumber(x) ? Math.round(x * scale) / scale : null
}

/** What the status document says about the vehicle (ECHONET Lite 0xC7 is derived from it). */
export type VehicleLink = "none" | "connected" | "chargeable" | "dischargeable" | "both"

/**
 * The vehicle as the last battery reading shows it: no fresh reading (v2h.readingTimeoutMs) means
 * no vehicle on the link; otherwise what the vehicle allows now (its max charge / discharge current).
 */
export function vehicleLink(m: V2hInput, nowMs: number, readingTimeoutMs: number): VehicleLink {
    if (!m || !isFiniteNumber(m.batteryAtMs) || nowMs - m.batteryAtMs > readingTimeoutMs) return "none"
    const chg = isFiniteNumber(m.maxChargeCurrentA) && m.maxChargeCurrentA > 0
    const dis = isFiniteNumber(m.maxDischargeCurrentA) && m.maxDischargeCurrentA > 0
    if (chg && dis) return "both"
    if (chg) return "chargeable"
    if (dis) return "dischargeable"
    return "connected"
}

/** The result of one command payload: why it was refused ("" = applied), and its "id" if it had one. */
export interface CommandOutcome {
    error: string
    id: string
}

export class Controller {
    readonly protection: OutletProtection
    readonly v2h: V2hSupervisor
    /** The firmware's own loops (the shell registers and times them; see common/loop-health.ts). */
    readonly loops: LoopHealth
    /** The inverter register writes to make after each V2H tick, in order. */
    readonly inverterWrites: InverterWrites
    /** The outlets' second means (the supply contactor), decided every protection tick. */
    readonly outletSupply = new OutletSupply()
    /** The supply contactor command of the last protection tick: true = outlets supplied. */
    outletSupplyOn = false
    /** The outlet relay and supply contactor writes to make after each protection tick, in order. */
    readonly outletWrites: OutletWrites
    /** When each outlet's reading was taken (for the supply decision; reused every tick). */
    private readonly outletAtMs: number[] = []
    /** The outlets' e-stop (see tickOutlets / tickV2h). */
    private outletEstop = false
    private energy = new EnergyCounter([0, 0, 0])
    private persistence: PersistScheduler = null

    constructor(private readonly cfg: ControllerConfig) {
        this.protection = new OutletProtection(cfg)
        this.v2h = new V2hSupervisor(cfg)
        this.loops = new LoopHealth(cfg.ticks.loopHealthWindowMs)
        this.inverterWrites = new InverterWrites(cfg.powerStage.keepaliveMs)
        this.outletWrites = new OutletWrites(cfg.outlets.count)
    }

    /**
     * Restart: applies the stored record (what readSetting gave; undefined when nothing is stored)
     * before the first tick, so latched trips and faults need the same resets as before. A bad
     * value is replaced by its default; returns one message per replaced value.
     */
    boot(stored: any, nowMs: number): string[] {
        const checked = validatePersisted(stored, this.cfg)
        const problems = checked.problems
        for (const p of restore(this, checked.value, nowMs)) problems.push(p)
        this.energy = new EnergyCounter(checked.value.wh)
        this.persistence = new PersistScheduler(this.cfg, checked.value, nowMs)
        // A restored e-stop latch keeps the outlets off from the very first protection tick.
        this.outletEstop = this.v2h.latchedFault() === "estop"
        return problems
    }

    /**
     * One outlet-protection tick. A pressed e-stop cuts the outlets now, without waiting for the V2H
     * tick. The supply contactor is decided in the same tick (outletSupplyOn): cut when an outlet
     * commanded off still delivers (a welded relay), or by the e-stop.
     */
    tickOutlets(inp: ProtectionInput, estopPressed: boolean): ProtectionStatus {
        if (estopPressed) this.outletEstop = true
        inp.estop = this.outletEstop
        const st = this.protection.tick(inp)
        for (let i = 0; i < inp.outlets.length; i++) this.outletAtMs[i] = inp.outlets[i].atMs
        this.outletSupplyOn = this.outletSupply.update({
            outletOn: st.outletOn,
            outletW: st.outletW, // NaN when stale: a stale meter never proves a weld
            outletAtMs: this.outletAtMs,
            weldedPowerW: this.cfg.v2h.contactor.weldedPowerW,
            relayReleaseMs: this.cfg.outlets.relayReleaseMs,
            estop: inp.estop,
        })
        return st
    }

    /**
     * One V2H tick, with the outlets' state from their last protection tick (their total draw, the
     * relay commands and readings for the reset's check, the welds the supply check proved). Afterwards the outlets
     * stay cut while the e-stop is pressed or latched. The inverter writes are in inverterWrites.
     */
    tickV2h(vin: V2hInput): V2hStatus {
        const p = this.protection.status
        vin.outletsW = p.totalPowerW
        vin.outletOn = p.outletOn
        vin.outletW = p.outletW
        vin.outletWelded = this.outletSupply.welded
        const st = this.v2h.tick(vin)
        this.outletEstop = vin.estop || st.fault === "estop"
        this.inverterWrites.plan(st)
        return st
    }

    /**
     * Plans the outlet relay and supply contactor writes for the last protection tick's commands
     * (in outletWrites), given which of their roles are bound now; returns how many there are.
     */
    planOutletWrites(relayBound: boolean[], supplyBound: boolean): number {
        return this.outletWrites.plan(this.protection.status.outletOn, relayBound, this.outletSupplyOn, supplyBound)
    }

    /** The shell wrote outlet i's relay command (the supply judges a weld only from readings after an off write). */
    outletRelayWritten(i: number, on: boolean, atMs: number) {
        this.outletSupply.written(i, on, atMs)
    }

    /** The alarm sounds while the outlets raise their alarm or a V2H fault is latched. */
    alarmOn(): boolean {
        return this.protection.status.alarm || this.v2h.status.faultLatched
    }

    /**
     * Integrates the energy counters (inverter power only from a fresh reading) and returns the
     * record to write to flash now, or null when nothing needs writing yet (persist.ts's schedule).
     */
    persistDue(nowMs: number): Persisted {
        const inv = this.v2h.lastReadings()
        this.energy.add(nowMs, inv && this.v2h.inverterFresh(inv, nowMs) ? inv.inverterW : 0, this.protection.status.totalPowerW)
        const rec = capture(this, this.energy.wh)
        if (!this.persistence || !this.persistence.due(rec, nowMs)) return null
        this.persistence.written(rec, nowMs)
        return rec
    }

    /** A command payload (JSON text). Returns "" when applied, else why it was rejected (nothing changed). */
    command(text: string, nowMs: number): string {
        return this.handle(text, nowMs).error
    }

    /** As command(), and also returns the command's correlation "id" (echoed in the result event). */
    handle(text: string, nowMs: number): CommandOutcome {
        const r: CommandResult = parseCommand(text, this.cfg)
        if (r.error) return { error: r.error, id: r.id }
        return { error: this.apply(r.command, nowMs), id: r.id }
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
            loops: this.loops.json(),
            // Whole Wh: exact in JSON up to ~10 MWh (about 7 significant digits), coarser beyond.
            energy_discharged_wh: Math.floor(this.energy.wh[0]),
            energy_charged_wh: Math.floor(this.energy.wh[1]),
            energy_outlets_wh: Math.floor(this.energy.wh[2]),
            // For gateways (ECHONET Lite 0x027E): the vehicle on the link and the currents it allows
            // now, the rated inverter power, whether export to the grid is allowed (the energy
            // counters are the energy_*_wh above).
            vehicle: vehicleLink(m, nowMs, this.cfg.v2h.readingTimeoutMs),
            max_charge_a: m ? measured(m.maxChargeCurrentA, 10) : null,
            max_discharge_a: m ? measured(m.maxDischargeCurrentA, 10) : null,
            rated_power_w: this.cfg.v2h.ratedPowerW,
            reverse_flow_allowed: this.cfg.v2h.reverseFlowAllowed,
        }
    }
}
