// The closed loop: the firmware bytecode in the DeviceScript VM, a jacdac-ts bus, the plant's
// servers and the pure plant model, all on one virtual clock, driven by a scenario.
import type { JDBus } from "jacdac-ts"
import { bridge, createBus } from "./bus"
import { connectHub } from "./tcp-link"
import { createClock, trackedVmTimers, type Clock } from "./clock"
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
import { ScenarioError, type Scenario, type ScenarioEvent } from "./scenario/types"
import { ChargerControlClient, type FirmwareEvent, type LoopHealthFigures, type RejectedCommand, type Trip } from "./control-client"
import { PlantServers } from "./servers"
import type { TraceRow } from "./trace"
import { createVm, deploy } from "./vm/devs-vm"
import type { HeapFigures } from "./vm/vm-monitor"
import type { SocketModel } from "./vm/socket-model"

/** Simulation cadences (virtual ms). */
export const PLANT_STEP_MS = 10
/** The outlet meters' report period (the boards' outletMeter.pollMs is the same 100 ms). */
export const METER_REPORT_MS = 100
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

export type { FirmwareEvent, Trip } from "./control-client"

export interface SimRun {
    scenario: Scenario
    rows: TraceRow[]
    trips: Trip[]
    rejected: RejectedCommand[]
    /** Fault and state-change events the firmware announced, in order. */
    firmwareEvents: FirmwareEvent[]
    /** Things the scenario asked for that this firmware cannot do yet, and VM panics. */
    warnings: string[]
    wallS: number
    vmLog: string[]
    /** The firmware's GC heap (in-process VM only): peaks per trace interval and overall (sim/vm/vm-monitor.ts). */
    heap: { samples: (HeapFigures & { tS: number })[]; overall: HeapFigures | undefined }
    /** Firmware restarts in the run (scenario events and panics), in order. */
    restarts: Restart[]
    /** The firmware's loop health (v2h_status), the worst figure of any boot in the run; undefined before it reported. */
    loopHealth?: LoopHealthFigures
    /** Set when an external driver stopped the run (RunContext.abort). */
    aborted?: string
}
export type { LoopHealthFigures }

export interface Restart {
    tS: number
    /** "scenario firmware_restart" or "panic <code>". */
    reason: string
}

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
    /** How the VM's socket delivers received data (default: like an ESP32, sim/vm/socket-model.ts). */
    socket?: SocketModel
    /** The VM's flash at boot (e.g. device settings from sim/vm/settings.ts); default: empty, not kept. */
    flash?: Uint8Array
    /** Called with every line the VM prints (also those not kept). */
    onVmLog?: (line: string) => void
    /** ...or the firmware is behind another link (the HIL bench: a serial port, a hub): connects the bus, returns a disconnect. */
    connect?: (bus: JDBus) => Promise<() => void>
    /** Called once the bus, the plant's servers and the link are up, before t = 0 (the HIL bench pins roles and watches the link). */
    onStart?: (run: RunContext) => void
    /** Real-time runs: called after every paced step with how far virtual time lags the wall clock (ms; < 0 = ahead). */
    onPace?: (lagMs: number, nowMs: number) => void
    /** A firmware_restart event when the firmware is not in the in-process VM (the bench resets the board). */
    restartFirmware?: () => Promise<void>
    /**
     * The firmware found on the bus at t = 0 is not this run's (the bench stops and resets it):
     * its status and events are not taken until RunContext.firmwareStarting().
     */
    holdFirmware?: boolean
}

/** What a run exposes to an external driver (the HIL bench). */
export interface RunContext {
    bus: JDBus
    clock: Clock
    servers: PlantServers
    /** Marks a condition in the trace's injected_faults column (e.g. "link_lost"). */
    setInjected(name: string, active: boolean): void
    /** Ends the run now; simulate() resolves with run.aborted = reason. */
    abort(reason: string): void
    /** This run's firmware is starting (after SimOptions.holdFirmware): its reports count from now. */
    firmwareStarting(): void
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
    const outletCount = scenario.config.outlets.count
    // The plant has the outlets the firmware is configured for.
    const merged = plantParams(scenario.plant, scenario.file)
    const params: PlantParams = { ...merged, outlets: { ...merged.outlets, count: outletCount } }
    const clock = createClock()
    const bus = createBus(clock)
    const servers = new PlantServers(bus, outletCount)
    const vmLog: string[] = []
    const warnings: string[] = []
    if ([opts.bytecode, opts.hubPort, opts.connect].filter(x => x !== undefined).length !== 1)
        throw new Error("simulate: give one of bytecode, hubPort or connect")
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
            socket: opts.socket,
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
    let unlink = vm ? bridge(bus, vm, clock) : opts.connect ? await opts.connect(bus) : await connectHub(bus, opts.hubPort)

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

    // The firmware's control surface, as a gateway sees it.
    const control = new ChargerControlClient(bus, () => clock.now / 1000)
    // Firmware outside the process (the HIL bench) restarts without telling: look for its service every poll.
    if (!vm) control.firmwareRestarted()
    if (opts.holdFirmware) control.hold()

    /**
     * The program starts again from flash (settings kept), as after a watchdog or panic reset of
     * the board; the outputs it drove drop to their restart state. After a panic the program runs
     * in a fresh VM (virtual time waits while it is instantiated).
     */
    function restartFirmware(reason: string) {
        restartPending = false
        restarts.push({ tS: clock.now / 1000, reason })
        const old = vm!
        old.devsStop()
        servers.outputsToRestartState()
        control.firmwareRestarted() // the trace shows nothing until the new program reports
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
                else if (opts.restartFirmware) {
                    control.firmwareRestarted() // found again once the restarted program announces it
                    await opts.restartFirmware()
                } else warnings.push(`/events/${ev.index}: firmware_restart needs the in-process VM`)
                break
            case "reset_faults":
                await control.clearFaults()
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
                if (c.mode === "setpoint") hemsRequestW = c.setpoint_w ?? 0
                else if (c.mode !== undefined) hemsRequestW = 0
                await control.sendHemsCommand(ev.json)
                break
            }
        }
    }

    // Plant step: relays from the firmware's commands, physics, then the meters.
    const stepMs = PLANT_STEP_MS
    const watchdogMs = scenario.config.powerStage.commandTimeoutMs
    let stepCount = 0
    // Quiet: the step's only asynchronous work is the reports it sends (see sim/clock.ts).
    clock.setQuietInterval(() => {
        stepCount++
        if (servers.checkWatchdog(bus.timestamp, watchdogMs))
            warnings.push(`power-stage watchdog: no inverter command for ${watchdogMs} ms at ${(clock.now / 1000).toFixed(2)} s: the inverter ceased to energise`)
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
        clock.setInterval(() => control.poll(), pollMs)
    }, pollMs / 2)
    const heapSamples: (HeapFigures & { tS: number })[] = []
    const sample = () => {
        rows.push(traceRow(clock.now / 1000, plant, servers, control, hemsRequestW, injected))
        const h = vm?.heap.takePeak()
        if (h) heapSamples.push({ tS: clock.now / 1000, ...h })
    }
    clock.setInterval(sample, traceMs)

    for (const ev of scenario.events) clock.setTimeout(() => void applyEvent(ev), ev.atS * 1000)

    await servers.setMainSwitch(scenario.initial.outletSwitchOn)
    // Like a gateway: tell the firmware the local time of day once its control surface is up.
    const todS = scenario.initial.timeOfDayS
    void control.setTimeOfDay(() => Math.floor((todS + clock.now / 1000) % 86400))
    let aborted: string | undefined
    opts.onStart?.({
        bus,
        clock,
        servers,
        setInjected: (name, active) => (active ? injected.add(name) : injected.delete(name)),
        abort: reason => (aborted ??= reason),
        firmwareStarting: () => control.release(),
    })
    if (vm) deploy(vm, opts.bytecode!)
    sample()

    const endMs = scenario.durationS * 1000
    // As fast as possible, or paced so that virtual time follows the wall clock.
    const realtime = opts.speed === "realtime" || !vm
    const wallStart = performance.now()
    while (clock.now < endMs && aborted === undefined) {
        const step = Math.min(realtime ? REALTIME_CHUNK_MS : CHUNK_MS, endMs - clock.now)
        await clock.runUntil(clock.now + step)
        if (clock.now % CHUNK_MS === 0) opts.onProgress?.(clock.now / 1000, scenario.durationS)
        if (realtime) {
            const ahead = clock.now - (performance.now() - wallStart)
            opts.onPace?.(-ahead, clock.now)
            // Behind the wall clock (a loaded machine): still let Node deliver socket events
            // between chunks, or the firmware's sockets time out while virtual time catches up.
            await new Promise(r => (ahead > 0 ? setTimeout(r, ahead) : setImmediate(r)))
        }
    }
    vm?.devsStop()
    // The firmware's socket (MQTT) is Node's: close it, or it keeps the process alive. The broker
    // sees the connection end without an MQTT DISCONNECT, as when a device loses power: last will.
    vm?.sockClose()
    unlink()
    await bus.stop()
    clock.reset()
    const { trips, rejected, firmwareEvents } = control
    return {
        scenario,
        rows,
        trips,
        rejected,
        firmwareEvents,
        warnings: [...new Set(warnings)],
        wallS: (performance.now() - wall0) / 1000,
        vmLog,
        heap: { samples: heapSamples, overall: vm?.heap.overall() },
        restarts,
        loopHealth: control.loopHealth(),
        aborted,
    }
}


function traceRow(
    tS: number,
    plant: PlantState,
    servers: PlantServers,
    control: ChargerControlClient,
    hemsRequestW: number,
    injected: Set<string>,
): TraceRow {
    const o = plant.outlets.outlets
    const status = control.outletStatus
    const v2h = control.v2hStatus
    const row: TraceRow = { t_s: tS, soc_pct: plant.battery.socPct }
    // Per-outlet columns, grouped by kind like the CSV (outlet1_demand_w, outlet2_demand_w, ..., outlet1_w, ...).
    for (let i = 0; i < o.length; i++) row[`outlet${i + 1}_demand_w`] = o[i].demandW
    for (let i = 0; i < o.length; i++) row[`outlet${i + 1}_w`] = o[i].deliveredW
    for (let i = 0; i < o.length; i++) row[`outlet${i + 1}_on`] = servers.relayCommand(i) ? 1 : 0
    // The reason comes from the firmware's status; "" when it has not reported (or does not report this outlet).
    for (let i = 0; i < o.length; i++) row[`outlet${i + 1}_reason`] = status ? (status.outlets[i]?.reason ?? "") : ""
    return {
        ...row,
        alarm: status ? status.alarm : "",
        buzzer: servers.buzzerOn() ? 1 : 0,
        thermal_level: status ? status.thermalLevel : 0,
        load_ratio: status ? status.loadRatio : 0,
        v2h_request_w: hemsRequestW,
        v2h_command_w: servers.inverterCommand().powerW,
        v2h_mode: v2h ? v2h.mode : "",
        v2h_target_w: v2h ? v2h.target_w : 0,
        limit_reason: v2h ? v2h.limit_reason : "",
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
        state: v2h ? v2h.state : "",
        fault: v2h ? v2h.fault : "",
        injected_faults: [...injected].sort().join("+"),
    }
}
