// The simulator's client of the firmware's control surface (services/charger-control.md), as a
// gateway would use it: it finds the ChargerControl server on the bus, polls the two status
// registers, records the events (trips, faults, state changes, rejected commands) and sends the
// commands. Every code, field position and enum comes from the spec (sim/service-specs.ts), looked
// up by name; what the simulator reads is checked against the spec when the client is made.
import { EVENT, REPORT_UPDATE, jdpack, type JDBus, type JDRegister, type JDService } from "jacdac-ts"
import { fieldDecoder, packetSpec, serviceSpec, SpecError, type Decoded, type PacketSpec, type ServiceSpec } from "./service-specs"

export interface Trip {
    tS: number
    outlet: number
    reason: string
}

export interface FirmwareEvent {
    tS: number
    kind: "fault" | "state"
    value: string
}

export interface RejectedCommand {
    tS: number
    message: string
}

/** One outlet in the outlet_status register. */
export interface OutletView {
    on: boolean
    /** The governing reason (snake_case OutletReason member, "" for an unknown code). */
    reason: string
}

/** The outlet_status register, decoded by the spec's field names. */
export interface OutletStatusView {
    /** 1.0 = trip (the wire carries thousandths). */
    thermalLevel: number
    /** 1.0 = the shared budget. */
    loadRatio: number
    /** Index 0 = outlet 1; as many as the register carries. */
    outlets: OutletView[]
    alarm: string
    socState: string
    /** Every field by its spec name. */
    fields: Decoded
}

/** The v2h_status register: every field by its spec name (enums as snake_case member names). */
export interface V2hStatusView {
    request_w: number
    target_w: number
    command_w: number
    limit_mask: number
    state: string
    mode: string
    limit_reason: string
    fault: string
    [field: string]: number | boolean | string | Decoded[]
}

/** The v2h_status fields the simulator reads (checked against the spec). */
export const V2H_STATUS_FIELDS = ["target_w", "state", "mode", "limit_reason", "fault"] as const
/** The outlet_status fields the simulator reads besides the per-outlet ones (checked against the spec). */
export const OUTLET_STATUS_FIELDS = ["thermal_level_permille", "load_ratio_permille", "alarm", "soc_state"] as const

/** The per-outlet fields of outlet_status: `outlet<N>_on` / `outlet<N>_reason`, or a repeated `on`/`reason` (or `outlet_on`/...) group. */
export function outletsOf(fields: Decoded): OutletView[] {
    const out: OutletView[] = []
    if (Array.isArray(fields.repeats))
        for (const r of fields.repeats) out.push({ on: !!(r.on ?? r.outlet_on), reason: String(r.reason ?? r.outlet_reason ?? "") })
    else
        for (let n = 1; `outlet${n}_on` in fields || `outlet${n}_reason` in fields; n++)
            out.push({ on: !!fields[`outlet${n}_on`], reason: String(fields[`outlet${n}_reason`] ?? "") })
    return out
}

function requireFields(service: ServiceSpec, packet: PacketSpec, names: readonly string[]) {
    const have = packet.fields.map(f => f.name)
    const missing = names.filter(n => !have.includes(n))
    if (missing.length)
        throw new SpecError(`services/${service.shortId}.md ${packet.name}: no field ${missing.join(", ")} (has: ${have.join(", ")}); the simulator reads it`)
}

/** The control surface's codes and decoders, from the spec (throws SpecError if something the simulator needs is gone). */
export function controlSurface(service = serviceSpec("charger-control")) {
    const reg = (name: string) => packetSpec(service, "rw", name)
    const ro = (name: string) => packetSpec(service, "ro", name)
    const evt = (name: string) => packetSpec(service, "event", name)
    const outletStatus = ro("outlet_status")
    const v2hStatus = ro("v2h_status")
    requireFields(service, outletStatus, OUTLET_STATUS_FIELDS)
    requireFields(service, v2hStatus, V2H_STATUS_FIELDS)
    if (!outletStatus.fields.some(f => /^(outlet\d+_)?(outlet_)?(on|reason)$/.test(f.name)))
        throw new SpecError(`services/${service.shortId}.md outlet_status: no per-outlet on/reason fields`)
    const events = { trip: evt("trip"), fault: evt("fault"), stateChanged: evt("state_changed"), commandRejected: evt("command_rejected") }
    requireFields(service, events.trip, ["outlet", "reason"])
    requireFields(service, events.fault, ["fault"])
    requireFields(service, events.stateChanged, ["state"])
    requireFields(service, events.commandRejected, ["message"])
    return {
        service,
        serviceClass: service.classIdentifier,
        timeOfDay: reg("time_of_day").identifier,
        outletStatus: outletStatus.identifier,
        v2hStatus: v2hStatus.identifier,
        hemsCommand: packetSpec(service, "command", "hems_command").identifier,
        clearFaults: packetSpec(service, "command", "clear_faults").identifier,
        events: Object.fromEntries(Object.entries(events).map(([k, p]) => [k, p.identifier])) as Record<keyof typeof events, number>,
        decodeOutletStatus: fieldDecoder(service, outletStatus),
        decodeV2hStatus: fieldDecoder(service, v2hStatus),
        decodeEvent: Object.fromEntries(
            Object.entries(events).map(([k, p]) => [k, fieldDecoder(service, p, code => `code_${code}`)]),
        ) as Record<keyof typeof events, (values: unknown[]) => Decoded>,
    }
}
export type ControlSurface = ReturnType<typeof controlSurface>

/** The outlet_status view of decoded fields. */
export function outletStatusView(fields: Decoded): OutletStatusView {
    return {
        thermalLevel: (fields.thermal_level_permille as number) / 1000,
        loadRatio: (fields.load_ratio_permille as number) / 1000,
        outlets: outletsOf(fields),
        alarm: fields.alarm as string,
        socState: fields.soc_state as string,
        fields,
    }
}

/** The loop-health fields of v2h_status (ms; overruns a count): services/charger-control.md. */
export interface LoopHealthFigures {
    protection_max_late_ms: number
    protection_max_run_ms: number
    v2h_max_late_ms: number
    v2h_max_run_ms: number
    supervisory_max_late_ms: number
    mqtt_max_run_ms: number
    loop_overruns: number
}
export const LOOP_HEALTH_FIELDS: (keyof LoopHealthFigures)[] = [
    "protection_max_late_ms",
    "protection_max_run_ms",
    "v2h_max_late_ms",
    "v2h_max_run_ms",
    "supervisory_max_late_ms",
    "mqtt_max_run_ms",
    "loop_overruns",
]

export class ChargerControlClient {
    /** Loop health reported by the current boot, and the worst of the boots before it. */
    private bootLoops: LoopHealthFigures | undefined
    private earlierLoops: LoopHealthFigures | undefined
    readonly surface: ControlSurface
    /** The latest reports (undefined until the firmware answers, and again after a restart). */
    outletStatus: OutletStatusView | undefined
    v2hStatus: V2hStatusView | undefined
    readonly trips: Trip[] = []
    readonly rejected: RejectedCommand[] = []
    /** Fault and state-change events the firmware announced, in order. */
    readonly firmwareEvents: FirmwareEvent[] = []

    private control: JDService | undefined
    private readonly pending: ((s: JDService) => Promise<void>)[] = []
    private readonly hooked = new WeakSet<JDService>()
    private restarted = false
    /** No polls, hence no service found and nothing taken (hold()). */
    private held = false

    constructor(
        private readonly bus: JDBus,
        /** Simulated seconds now (event timestamps). */
        private readonly nowS: () => number,
        surface = controlSurface(),
    ) {
        this.surface = surface
    }

    /** Runs `f` with the control service now, or once the bus has seen it. */
    withControl(f: (s: JDService) => Promise<void>): Promise<void> | number {
        return this.control ? f(this.control) : this.pending.push(f)
    }

    sendHemsCommand(json: string) {
        return this.withControl(s => s.sendCmdAsync(this.surface.hemsCommand, jdpack("s", [json]), false))
    }

    clearFaults() {
        return this.withControl(s => s.sendCmdAsync(this.surface.clearFaults, new Uint8Array(0), false))
    }

    /** Like a gateway: the local time of day, once the control surface is up. */
    setTimeOfDay(secondsOfDay: () => number) {
        return this.withControl(s => s.register(this.surface.timeOfDay).sendSetPackedAsync([secondsOfDay()], true))
    }

    /** Worst loop health of any boot so far (overruns added up over boots); undefined before any report. */
    loopHealth(): LoopHealthFigures | undefined {
        const a = this.bootLoops
        const b = this.earlierLoops
        if (!a || !b) return a ?? b
        const out: any = {}
        for (const k of LOOP_HEALTH_FIELDS) out[k] = k === "loop_overruns" ? a[k] + b[k] : Math.max(a[k], b[k])
        return out
    }

    /** The program restarted: forget its reports and find its control service again once it announces it. */
    firmwareRestarted() {
        this.earlierLoops = this.loopHealth()
        this.bootLoops = undefined
        this.outletStatus = this.v2hStatus = undefined
        this.control = undefined
        this.restarted = true
    }

    /**
     * Before the first poll: the program on the bus is not this run's (the HIL bench's start stops
     * it and resets the board). No poll looks for its control service, so none of its reports or
     * events is taken and the commands waiting for a control service wait, until release().
     */
    hold() {
        this.held = true
    }

    /** This run's program is starting: its control service is looked for from the next poll. */
    release() {
        this.held = false
        this.firmwareRestarted()
    }

    /** A gateway's poll: find the service if needed and ask for both status registers. */
    poll() {
        if (this.held) return
        // After a firmware restart the bus may list a new service object for the same server.
        if (this.control && this.restarted && this.bus.services({ serviceClass: this.surface.serviceClass })[0] !== this.control)
            this.control = undefined
        void this.find()
        if (this.control) {
            void this.control.register(this.surface.outletStatus).sendGetAsync()
            void this.control.register(this.surface.v2hStatus).sendGetAsync()
        }
    }

    private async find() {
        if (this.control) return
        const control = (this.control = this.bus.services({ serviceClass: this.surface.serviceClass })[0])
        if (!control) return
        if (this.hooked.has(control)) {
            for (const f of this.pending.splice(0)) await f(control)
            return
        }
        this.hooked.add(control)
        const s = this.surface
        const reg: JDRegister = control.register(s.outletStatus)
        reg.on(REPORT_UPDATE, () => (this.outletStatus = outletStatusView(s.decodeOutletStatus(reg.unpackedValue))))
        const v2hReg: JDRegister = control.register(s.v2hStatus)
        v2hReg.on(REPORT_UPDATE, () => {
            const d = s.decodeV2hStatus(v2hReg.unpackedValue)
            this.v2hStatus = d as V2hStatusView
            if (typeof d.protection_max_late_ms === "number") {
                const cur: any = {}
                for (const k of LOOP_HEALTH_FIELDS) cur[k] = d[k]
                this.bootLoops = cur
            }
        })
        const on = (name: keyof ControlSurface["events"], f: (d: Decoded) => void) => {
            const ev = control.event(s.events[name])
            ev.on(EVENT, () => f(s.decodeEvent[name](ev.unpackedValue)))
        }
        on("fault", d => this.firmwareEvents.push({ tS: this.nowS(), kind: "fault", value: d.fault as string }))
        on("stateChanged", d => this.firmwareEvents.push({ tS: this.nowS(), kind: "state", value: d.state as string }))
        on("trip", d => this.trips.push({ tS: this.nowS(), outlet: d.outlet as number, reason: d.reason as string }))
        on("commandRejected", d => this.rejected.push({ tS: this.nowS(), message: d.message as string }))
        for (const f of this.pending.splice(0)) await f(control)
    }
}
