// The closed loop: the firmware bytecode in the DeviceScript VM, a jacdac-ts bus, the plant's
// servers and the pure plant model, all on one virtual clock, driven by a scenario.
import { EVENT, REPORT_UPDATE, type JDRegister, type JDService } from "jacdac-ts"
import { bridge, createBus } from "./bus"
import { connectHub } from "./tcp-link"
import { createClock, trackedVmTimers } from "./clock"
import {
    initialPlant,
    mergePlantParams,
    setAmbient,
    setFault,
    setGrid,
    setHouse,
    setInverterTemp,
    setOutletLoad,
    setPv,
    stepPlant,
    type PlantFault,
    type PlantParams,
    type PlantState,
} from "./plant/plant"
import { ScenarioError, type Scenario, type ScenarioEvent } from "./scenario/load"
import { PlantServers, SRV_CHARGER_CONTROL } from "./servers"
import type { TraceRow } from "./trace"
import { createVm, deploy } from "./vm/devs-vm"
import { ALARM_REASONS, OUTLET_REASONS } from "../src/core/outlet-protection"
import { FAULT_CODES, V2H_STATES } from "../src/core/v2h-supervisor"
import { LIMIT_REASONS } from "../src/core/v2h-limits"
import { V2H_MODES } from "../src/core/hems-command"
import { jdpack } from "jacdac-ts"

/** Simulation cadences (virtual ms). */
export const PLANT_STEP_MS = 10
const METER_REPORT_MS = 100
const BATTERY_REPORT_MS = 500
/** Inverter and grid meter: a typical Modbus/CAN poll period. */
const INVERTER_REPORT_MS = 250
const CHUNK_MS = 1000
const REALTIME_CHUNK_MS = 10
const STATUS_POLL_MIN_MS = 100
/** A delivered-power change this large is reported at once instead of at the next 100 ms report. */
const METER_PUSH_DELTA_W = 5
/** A grid voltage / frequency change this large is reported at once (0.5 % of 100 V; 0.05 Hz). */
const GRID_PUSH_DELTA_V = 0.5
const GRID_PUSH_DELTA_HZ = 0.05

const REG_TIME_OF_DAY = 0x84
const REG_OUTLET_STATUS = 0x180
const REG_V2H_STATUS = 0x181
const CMD_HEMS_COMMAND = 0x80
const CMD_CLEAR_FAULTS = 0x81
const EVT_COMMAND_REJECTED = 0x80
const EVT_TRIP = 0x81
const EVT_FAULT = 0x82
const EVT_STATE_CHANGED = 0x83

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

export interface SimRun {
    scenario: Scenario
    rows: TraceRow[]
    trips: Trip[]
    rejected: { tS: number; message: string }[]
    /** Fault and state-change events the firmware announced, in order. */
    firmwareEvents: FirmwareEvent[]
    /** Things the scenario asked for that this firmware cannot do yet, and VM panics. */
    warnings: string[]
    wallS: number
    vmLog: string[]
    /** Firmware restarts in the run (scenario events and panics), in order. */
    restarts: Restart[]
    /** The firmware's loop health (v2h_status), the worst figure of any boot in the run; undefined before it reported. */
    loopHealth?: LoopHealthFigures
}

export interface Restart {
    tS: number
    /** "scenario firmware_restart" or "panic <code>". */
    reason: string
}

/** The loop-health fields of v2h_status (ms; overruns a count). */
export interface LoopHealthFigures {
    protection_max_late_ms: number
    protection_max_run_ms: number
    v2h_max_late_ms: number
    v2h_max_run_ms: number
    supervisory_max_late_ms: number
    mqtt_max_run_ms: number
    loop_overruns: number
}
const LOOP_HEALTH_FIELDS: (keyof LoopHealthFigures)[] = [
    "protection_max_late_ms",
    "protection_max_run_ms",
    "v2h_max_late_ms",
    "v2h_max_run_ms",
    "supervisory_max_late_ms",
    "mqtt_max_run_ms",
    "loop_overruns",
]
/** Index of protection_max_late_ms in v2h_status (services/charger-control.md). */
const V2H_STATUS_LOOPS_AT = 12

export interface SimOptions {
    /** The firmware to run in the in-process VM... */
    bytecode?: Uint8Array
    /** ...or the firmware is elsewhere (devtools' VM, a real board) behind a Jacdac hub on this TCP port. */
    hubPort?: number
    /** "realtime" paces virtual time to the wall clock (for watching); default "max". */
    speed?: "max" | "realtime"
    onProgress?: (simS: number, totalS: number) => void
    /** Keep the VM's console output (default: only panics and errors). */
    keepVmLog?: boolean
    /** The VM's flash at boot (e.g. device settings from sim/vm/settings.ts); default: empty, not kept. */
    flash?: Uint8Array
    /** Called with every line the VM prints (also those not kept). */
    onVmLog?: (line: string) => void
}

/** The simulated charger's device id (MQTT's default topic prefix is charger/<device id>). */
export const SIM_DEVICE_ID = "c0ffee00c0ffee01"

/** The plant parameters of a scenario (its overrides were checked when it was loaded). */
export function plantParams(overrides: Record<string, Record<string, number | boolean>>, file: string): PlantParams {
    const { params, problems } = mergePlantParams(overrides)
    if (problems.length) throw new ScenarioError(file, problems)
    return params
}

export async function simulate(scenario: Scenario, opts: SimOptions): Promise<SimRun> {
    const wall0 = performance.now()
    const params = plantParams(scenario.plant, scenario.file)
    const outletCount = scenario.config.outlets.count
    const clock = createClock()
    const bus = createBus(clock)
    const servers = new PlantServers(bus, outletCount)
    const vmLog: string[] = []
    const warnings: string[] = []
    if (!opts.bytecode === (opts.hubPort === undefined)) throw new Error("simulate: give either bytecode or hubPort")
    // The flash lives on the host, so that settings survive a restart into a fresh VM.
    let flash = opts.flash ?? new Uint8Array(0)
    /** Every firmware restart of the run, with why (scenario event or panic code). */
    const restarts: Restart[] = []
    let clearVmTimers = () => {}
    let restartPending = false
    const makeVm = () => {
        const t = trackedVmTimers(clock)
        clearVmTimers = t.clearAll
        return createVm({
            flashLoad: () => flash,
            flashSave: buf => (flash = buf.slice()),
            timers: t.timers,
            deviceId: SIM_DEVICE_ID,
            onLog: line => {
                opts.onVmLog?.(line)
                if (opts.keepVmLog || /panic|exception|error/i.test(line)) vmLog.push(`${(clock.now / 1000).toFixed(3)} ${line}`)
            },
            // On a board an unhandled exception restarts the program: so does the simulator.
            onPanic: code => {
                warnings.push(`firmware panic ${code} at ${(clock.now / 1000).toFixed(3)} s: restarted`)
                if (restartPending) return
                restartPending = true
                clock.setTimeout(() => restartFirmware(`panic ${code}`), 0)
            },
        })
    }
    let vm = opts.bytecode ? await makeVm() : undefined
    let unlink = vm ? bridge(bus, vm, clock) : await connectHub(bus, opts.hubPort)

    let plant: PlantState = initialPlant(params, {
        socPct: scenario.initial.socPct,
        houseW: scenario.initial.houseW,
        pvW: scenario.initial.pvW,
        gridUp: scenario.initial.gridUp,
        tempC: scenario.initial.tempC,
    })
    const reportedW: number[] = new Array(outletCount).fill(NaN)
    const reportedGrid = { v: NaN, hz: NaN }
    let hemsRequestW = 0
    const injected = new Set<string>()

    // The firmware's control surface, once the bus has seen it.
    let control: JDService | undefined
    let status: number[] | undefined
    let v2hStatus: number[] | undefined
    const firmwareEvents: FirmwareEvent[] = []
    const trips: Trip[] = []
    const rejected: { tS: number; message: string }[] = []
    const pending: ((s: JDService) => Promise<void>)[] = []
    const hooked = new WeakSet<JDService>()
    let restartedAt = -1
    /** Loop health of the current boot, and the worst of the boots before it. */
    let bootLoops: LoopHealthFigures | undefined
    let earlierLoops: LoopHealthFigures | undefined
    const worstLoops = (): LoopHealthFigures | undefined => {
        if (!bootLoops || !earlierLoops) return bootLoops ?? earlierLoops
        const out: any = {}
        for (const k of LOOP_HEALTH_FIELDS) out[k] = k === "loop_overruns" ? bootLoops[k] + earlierLoops[k] : Math.max(bootLoops[k], earlierLoops[k])
        return out
    }
    const findControl = async () => {
        if (control) return
        control = bus.services({ serviceClass: SRV_CHARGER_CONTROL })[0]
        if (!control) return
        if (hooked.has(control)) {
            for (const f of pending.splice(0)) await f(control)
            return
        }
        hooked.add(control)
        const reg: JDRegister = control.register(REG_OUTLET_STATUS)
        reg.on(REPORT_UPDATE, () => (status = reg.unpackedValue as number[]))
        const v2hReg: JDRegister = control.register(REG_V2H_STATUS)
        v2hReg.on(REPORT_UPDATE, () => {
            v2hStatus = v2hReg.unpackedValue as number[]
            if (v2hStatus.length < V2H_STATUS_LOOPS_AT + LOOP_HEALTH_FIELDS.length) return
            // Overruns add up over boots (each boot counts from 0); the others are the worst of any boot.
            const cur: any = {}
            LOOP_HEALTH_FIELDS.forEach((k, i) => (cur[k] = v2hStatus![V2H_STATUS_LOOPS_AT + i]))
            bootLoops = cur
        })
        control.event(EVT_FAULT).on(EVENT, () => {
            const [code] = control!.event(EVT_FAULT).unpackedValue as number[]
            firmwareEvents.push({ tS: clock.now / 1000, kind: "fault", value: FAULT_CODES[code] ?? `code_${code}` })
        })
        control.event(EVT_STATE_CHANGED).on(EVENT, () => {
            const [code] = control!.event(EVT_STATE_CHANGED).unpackedValue as number[]
            firmwareEvents.push({ tS: clock.now / 1000, kind: "state", value: V2H_STATES[code] ?? `code_${code}` })
        })
        control.event(EVT_TRIP).on(EVENT, () => {
            const [outlet, code] = control!.event(EVT_TRIP).unpackedValue as number[]
            trips.push({ tS: clock.now / 1000, outlet, reason: OUTLET_REASONS[code] ?? `code_${code}` })
        })
        control.event(EVT_COMMAND_REJECTED).on(EVENT, () => {
            const [message] = control!.event(EVT_COMMAND_REJECTED).unpackedValue as string[]
            rejected.push({ tS: clock.now / 1000, message })
        })
        for (const f of pending.splice(0)) await f(control)
    }
    const withControl = (f: (s: JDService) => Promise<void>) => (control ? f(control) : pending.push(f))

    /**
     * The program starts again from flash (settings kept), as after a watchdog or panic reset of
     * the board; the outputs it drove drop to their restart state. After a panic the program runs
     * in a fresh VM (virtual time waits while it is instantiated).
     */
    function restartFirmware(reason: string) {
        restartPending = false
        restarts.push({ tS: clock.now / 1000, reason })
        earlierLoops = worstLoops()
        bootLoops = undefined
        const old = vm!
        old.devsStop()
        servers.outputsToRestartState()
        status = v2hStatus = undefined // the trace shows nothing until the new program reports
        control = undefined // found again once the new program announces it
        restartedAt = clock.now
        if (!reason.startsWith("panic")) {
            deploy(old, opts.bytecode!)
            return
        }
        // After a panic the VM instance may have aborted: a fresh one (~1 s of wall time).
        old.sockClose()
        clearVmTimers()
        unlink()
        clock.hold(
            makeVm().then(fresh => {
                vm = fresh
                unlink = bridge(bus, fresh, clock)
                deploy(fresh, opts.bytecode!)
            }),
        )
    }

    const applyEvent = async (ev: ScenarioEvent) => {
        switch (ev.kind) {
            case "outlet_load":
                plant = setOutletLoad(params, plant, ev.outlet - 1, ev.loadW, ev.inrushW || undefined, ev.inrushS || undefined)
                break
            case "outlet_switch":
                await servers.setMainSwitch(ev.on)
                break
            case "house":
                plant = setHouse(plant, ev.w)
                break
            case "pv":
                plant = setPv(plant, ev.w)
                break
            case "temp":
                plant = setAmbient(plant, ev.tempC)
                break
            case "inverter_temp":
                plant = setInverterTemp(plant, ev.tempC)
                break
            case "firmware_restart":
                // Like a watchdog or panic restart on the board: the program starts again from
                // flash (settings kept), the outputs it drove drop to their safe state.
                if (vm) restartFirmware("scenario firmware_restart")
                else warnings.push(`/events/${ev.index}: firmware_restart needs the in-process VM`)
                break
            case "reset_faults":
                await withControl(s => s.sendCmdAsync(CMD_CLEAR_FAULTS, new Uint8Array(0), false))
                break
            case "grid":
                plant = setGrid(plant, { up: ev.up, voltageV: ev.voltageV, frequencyHz: ev.frequencyHz })
                break
            case "fault": {
                if (ev.active) injected.add(ev.fault)
                else injected.delete(ev.fault)
                const m = /^outlet(\d)_meter_stale$/.exec(ev.fault)
                if (m) servers.meterSilent[Number(m[1]) - 1] = ev.active
                else if (ev.fault === "battery_stale") servers.batterySilent = ev.active
                else if (ev.fault === "inverter_stale") servers.inverterSilent = ev.active
                else if (ev.fault === "grid_meter_stale") servers.gridMeterSilent = ev.active
                else if (ev.fault === "estop") await servers.setEstop(ev.active)
                else plant = setFault(plant, ev.fault as PlantFault, ev.active)
                break
            }
            case "hems": {
                // The HEMS's view of its own request (the firmware's request/target/command are traced from its status).
                const c = ev.command
                if (c.mode === "setpoint") hemsRequestW = c.setpointW ?? 0
                else if (c.mode !== undefined) hemsRequestW = 0
                const json = ev.json
                await withControl(s => s.sendCmdAsync(CMD_HEMS_COMMAND, jdpack("s", [json]), false))
                break
            }
        }
    }

    // Plant step: relays from the firmware's commands, physics, then the meters.
    const stepMs = PLANT_STEP_MS
    let stepCount = 0
    // Quiet: the step's only asynchronous work is the reports it sends (see sim/clock.ts).
    clock.setQuietInterval(() => {
        stepCount++
        const relayCmd = servers.relays.map((_, i) => servers.relayCommand(i))
        const inv = servers.inverterCommand()
        plant = stepPlant(params, plant, stepMs / 1000, {
            outletRelayCmd: relayCmd,
            inverterCmdW: inv.powerW,
            contactorCmd: inv.contactor,
            gridRelayCmd: inv.gridRelay,
            islandCmd: inv.island,
            transferCmd: inv.transfer,
            ceaseCmd: inv.cease,
            outletSupplyCmd: servers.outletSupplyCommand(),
        })
        const periodic = (stepCount * stepMs) % METER_REPORT_MS === 0
        plant.outlets.outlets.forEach((o, i) => {
            if (periodic || Math.abs(o.deliveredW - reportedW[i]) >= METER_PUSH_DELTA_W || Number.isNaN(reportedW[i])) {
                reportedW[i] = o.deliveredW
                void servers.reportMeter(i, o.deliveredW, o.currentA, o.voltageV)
            }
        })
        if ((stepCount * stepMs) % BATTERY_REPORT_MS === 0) {
            const b = plant.battery
            void servers.reportBattery(b.socPct, b.voltageV, b.currentA, b.tempC, b.maxDischargeCurrentA, b.maxChargeCurrentA)
        }
        if ((stepCount * stepMs) % INVERTER_REPORT_MS === 0) {
            const i = plant.inverter
            void servers.reportInverter(i.acPowerW, i.dcPowerW, i.tempC, i.contactorClosed, i.gridRelayClosed, plant.transfer.position === "island")
        }
        // The grid meter reports every INVERTER_REPORT_MS, and at once when the voltage or the
        // frequency moves (a protection relay's threshold crossing): detection adds no report
        // period to a trip's clearing time.
        const site = plant.site
        if (
            (stepCount * stepMs) % INVERTER_REPORT_MS === 0 ||
            Math.abs(site.voltageV - reportedGrid.v) > GRID_PUSH_DELTA_V ||
            Math.abs(site.frequencyHz - reportedGrid.hz) > GRID_PUSH_DELTA_HZ
        ) {
            reportedGrid.v = site.voltageV
            reportedGrid.hz = site.frequencyHz
            void servers.reportGrid(site.gridW, site.voltageV, site.frequencyHz)
        }
    }, stepMs)

    // Firmware status: polled like a gateway would, at most every 100 ms (a faster trace
    // samples the plant more often and repeats the latest status), half a period before a sample.
    const rows: TraceRow[] = []
    const traceMs = scenario.traceIntervalMs
    const pollMs = Math.max(STATUS_POLL_MIN_MS, traceMs)
    clock.setTimeout(() => {
        clock.setInterval(() => {
            // After a firmware restart the bus may list a new service object for the same server.
            if (control && restartedAt >= 0 && bus.services({ serviceClass: SRV_CHARGER_CONTROL })[0] !== control) control = undefined
            void findControl()
            if (control) {
                void control.register(REG_OUTLET_STATUS).sendGetAsync()
                void control.register(REG_V2H_STATUS).sendGetAsync()
            }
        }, pollMs)
    }, pollMs / 2)
    const sample = () => rows.push(traceRow(clock.now / 1000, plant, servers, status, v2hStatus, hemsRequestW, injected))
    clock.setInterval(sample, traceMs)

    for (const ev of scenario.events) clock.setTimeout(() => void applyEvent(ev), ev.atS * 1000)

    await servers.setMainSwitch(scenario.initial.outletSwitchOn)
    // Like a gateway: tell the firmware the local time of day once its control surface is up.
    const todS = scenario.initial.timeOfDayS
    void withControl(s => s.register(REG_TIME_OF_DAY).sendSetPackedAsync([Math.floor((todS + clock.now / 1000) % 86400)], true))
    if (vm) deploy(vm, opts.bytecode!)
    sample()

    const endMs = scenario.durationS * 1000
    // As fast as possible, or paced so that virtual time follows the wall clock.
    const realtime = opts.speed === "realtime" || !vm
    const wallStart = performance.now()
    while (clock.now < endMs) {
        const step = Math.min(realtime ? REALTIME_CHUNK_MS : CHUNK_MS, endMs - clock.now)
        await clock.runUntil(clock.now + step)
        if (clock.now % CHUNK_MS === 0) opts.onProgress?.(clock.now / 1000, scenario.durationS)
        if (realtime) {
            const ahead = clock.now - (performance.now() - wallStart)
            if (ahead > 0) await new Promise(r => setTimeout(r, ahead))
        }
    }
    vm?.devsStop()
    // The firmware's socket (MQTT) is Node's: close it, or it keeps the process alive. The broker
    // sees the connection end without an MQTT DISCONNECT, as when a device loses power: last will.
    vm?.sockClose()
    unlink()
    await bus.stop()
    clock.reset()
    return { scenario, rows, trips, rejected, firmwareEvents, warnings: [...new Set(warnings)], wallS: (performance.now() - wall0) / 1000, vmLog, restarts, loopHealth: worstLoops() }
}


function traceRow(
    tS: number,
    plant: PlantState,
    servers: PlantServers,
    status: number[] | undefined,
    v2h: number[] | undefined,
    hemsRequestW: number,
    injected: Set<string>,
): TraceRow {
    const o = plant.outlets.outlets
    const reason = (i: number) => (status ? (OUTLET_REASONS[status[3 + 2 * i]] ?? "") : "")
    return {
        t_s: tS,
        soc_pct: plant.battery.socPct,
        outlet1_demand_w: o[0]?.demandW ?? 0,
        outlet2_demand_w: o[1]?.demandW ?? 0,
        outlet1_w: o[0]?.deliveredW ?? 0,
        outlet2_w: o[1]?.deliveredW ?? 0,
        outlet1_on: servers.relayCommand(0) ? 1 : 0,
        outlet2_on: servers.relays.length > 1 && servers.relayCommand(1) ? 1 : 0,
        outlet1_reason: reason(0),
        outlet2_reason: reason(1),
        alarm: status ? (ALARM_REASONS[status[6]] ?? "") : "",
        buzzer: servers.buzzerOn() ? 1 : 0,
        thermal_level: status ? status[0] / 1000 : 0,
        load_ratio: status ? status[1] / 1000 : 0,
        v2h_request_w: hemsRequestW,
        v2h_command_w: servers.inverterCommand().powerW,
        v2h_mode: v2h ? (V2H_MODES[v2h[5]] ?? "") : "",
        v2h_target_w: v2h ? v2h[1] : 0,
        limit_reason: v2h ? (LIMIT_REASONS[v2h[7]] ?? "") : "",
        contactor_closed: plant.inverter.contactorClosed ? 1 : 0,
        grid_relay_closed: plant.inverter.gridRelayClosed ? 1 : 0,
        house_islanded: plant.transfer.position === "grid" ? 0 : 1,
        outlet_supply_on: servers.outletSupplyCommand() ? 1 : 0,
        inverter_ceased: servers.inverterCommand().cease ? 1 : 0,
        unserved_w: plant.site.unservedW,
        inverter_w: plant.inverter.acPowerW,
        house_w: plant.site.houseW,
        pv_w: plant.site.pvW,
        grid_w: plant.site.gridW,
        grid_up: plant.site.gridUp ? 1 : 0,
        temp_c: plant.inverter.tempC,
        state: v2h ? (V2H_STATES[v2h[4]] ?? "") : "",
        fault: v2h ? (FAULT_CODES[v2h[8]] ?? "") : "",
        injected_faults: [...injected].sort().join("+"),
    }
}
