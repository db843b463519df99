// The firmware's control surface: a Jacdac ChargerControl server (services/charger-control.md)
// hosted by the firmware. Shell code: it only translates between the wire and the core; every
// check (ranges, outlet numbers) is the core's.
import * as ds from "@devicescript/core"
import { Server, startServer } from "@devicescript/server"
import { ALARM_REASONS, OUTLET_REASONS, OutletProtection, OutletReason, SOC_STATES } from "./core/outlet-protection"

const WIRE_MAX_U16 = 0xffff

class ChargerControlServer extends Server implements ds.ChargerControlServerSpec {
    constructor(private readonly protection: OutletProtection) {
        super(ds.ChargerControl.spec)
    }

    socFloor() {
        return this.protection.status.socFloorPct
    }

    async set_socFloor(value: number) {
        await this.report(this.protection.setSocFloor(value))
    }

    outletPriority() {
        return this.protection.status.highPriorityOutlet
    }

    async set_outletPriority(value: number) {
        await this.report(this.protection.setHighPriorityOutlet(value))
    }

    outletStatus(): [number, number, boolean, number, boolean, number, number, number] {
        const st = this.protection.status
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

    /** Announces a trip (cut and latched outlet) on the bus. */
    async sendTrip(outlet: number, reason: OutletReason) {
        await this.sendEvent(ds.ChargerControl.spec.lookup("trip").encode([outlet, OUTLET_REASONS.indexOf(reason)]))
    }

    /** A non-empty error from the core: log it and send the command_rejected event. */
    private async report(error: string) {
        if (!error) return
        console.log("rejected: " + error)
        await this.sendEvent(ds.ChargerControl.spec.lookup("commandRejected").encode(error))
    }
}

/** Starts the control surface server (role "chargerControl"). */
export function startChargerControl(protection: OutletProtection) {
    const server = new ChargerControlServer(protection)
    startServer(server, { roleName: "chargerControl" })
    return server
}
