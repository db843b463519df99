// The firmware's control surface: a Jacdac ChargerControl server (services/charger-control.md)
// hosted by the firmware. Shell code: it only translates between the wire and the core; every
// check (ranges, outlet numbers, reserve below charge limit) is the core's, through the one
// command path (Controller.command / commandObject).
import * as ds from "@devicescript/core"
import { Server, startServer } from "@devicescript/server"
import { ALARM_REASONS, OUTLET_REASONS, OutletReason, SOC_STATES } from "./core/outlets/io"
import { Controller } from "./core/controller"
import { V2H_MODES } from "./core/hems/command"
import { FAULT_CODES, FaultCode } from "./core/v2h/faults"
import { V2H_STATES, V2hState } from "./core/v2h/sequencing"
import { REQUEST_SOURCES, limitCode } from "./core/v2h/limits"
import { GRID_STATES } from "./core/v2h/grid-monitor"

const WIRE_MAX_U16 = 0xffff
const DAY_S = 86400

class ChargerControlServer extends Server implements ds.ChargerControlServerSpec {
    constructor(private readonly controller: Controller) {
        super(ds.ChargerControl.spec)
    }

    socFloor() {
        return this.controller.protection.status.socFloorPct
    }

    async set_socFloor(value: number) {
        await this.report(this.controller.commandObject({ soc_floor_pct: value }, ds.millis()))
    }

    outletPriority() {
        return this.controller.protection.status.highPriorityOutlet
    }

    async set_outletPriority(value: number) {
        await this.report(this.controller.commandObject({ outlet_priority: value }, ds.millis()))
    }

    reserve() {
        return this.controller.v2h.status.reservePct
    }

    async set_reserve(value: number) {
        await this.report(this.controller.commandObject({ reserve_pct: value }, ds.millis()))
    }

    chargeLimit() {
        return this.controller.v2h.status.chargeLimitPct
    }

    async set_chargeLimit(value: number) {
        await this.report(this.controller.commandObject({ charge_limit_pct: value }, ds.millis()))
    }

    timeOfDay() {
        const s = this.controller.v2h.timeOfDayS(ds.millis())
        return s === s ? Math.floor(s) : DAY_S
    }

    async set_timeOfDay(value: number) {
        await this.report(this.controller.v2h.setTimeOfDay(value, ds.millis()))
    }

    outletStatus(): [number, number, boolean, number, boolean, number, number, number] {
        const st = this.controller.protection.status
        return [
            Math.min(WIRE_MAX_U16, Math.round(st.thermalLevel * 1000)),
            Math.min(WIRE_MAX_U16, Math.round(st.loadRatio * 1000)),
            st.outletOn[0],
            OUTLET_REASONS.indexOf(st.reason[0]),
            st.outletOn[1],
            OUTLET_REASONS.indexOf(st.reason[1]),
            ALARM_REASONS.indexOf(st.alarmReason),
            SOC_STATES.indexOf(st.socState),
        ]
    }

    v2hStatus(): [number, number, number, number, number, number, number, number, number, boolean, number, number] {
        const v = this.controller.v2h.status
        return [
            Math.round(v.requestW),
            Math.round(v.targetW),
            Math.round(v.commandW),
            v.limitMask,
            V2H_STATES.indexOf(v.state),
            V2H_MODES.indexOf(v.mode),
            REQUEST_SOURCES.indexOf(v.requestSource),
            limitCode(v.limitReason),
            FAULT_CODES.indexOf(v.fault),
            v.faultLatched,
            FAULT_CODES.indexOf(v.lastFault),
            GRID_STATES.indexOf(v.gridState),
        ]
    }

    async hemsCommand(json: string) {
        await this.report(this.controller.command(json, ds.millis()))
    }

    async clearFaults() {
        await this.report(this.controller.v2h.clearFaults(ds.millis()))
    }

    /** Announces a trip (cut and latched outlet) on the bus. */
    async sendTrip(outlet: number, reason: OutletReason) {
        await this.sendEvent(ds.ChargerControl.spec.lookup("trip").encode([outlet, OUTLET_REASONS.indexOf(reason)]))
    }

    async sendFault(fault: FaultCode) {
        await this.sendEvent(ds.ChargerControl.spec.lookup("fault").encode(FAULT_CODES.indexOf(fault)))
    }

    async sendStateChanged(state: V2hState) {
        await this.sendEvent(ds.ChargerControl.spec.lookup("stateChanged").encode(V2H_STATES.indexOf(state)))
    }

    /** A stored setting that was refused at boot (reported like a rejected command). */
    async reportProblem(message: string) {
        await this.report(message)
    }

    /** A non-empty error from the core: log it and send the command_rejected event. */
    private async report(error: string) {
        if (!error) return
        console.log("rejected: " + error)
        await this.sendEvent(ds.ChargerControl.spec.lookup("commandRejected").encode(error))
    }
}

/** Starts the control surface server (role "chargerControl"). */
export function startChargerControl(controller: Controller) {
    const server = new ChargerControlServer(controller)
    startServer(server, { roleName: "chargerControl" })
    return server
}
