// The plant's side of the Jacdac seam: jacdac-ts servers that serve the roles the firmware
// binds (see the role table in docs/architecture.md) on one simulated device. Thin: they hold the latest plant
// values and report them; all physics is in sim/plant.
import {
    BuzzerServer,
    ButtonServer,
    JDServerServiceProvider,
    JDServiceServer,
    type Packet,
    RelayReg,
    SRV_RELAY,
    type JDRegisterServer,
    SwitchServer,
    type BuzzerTone,
    type JDBus,
} from "jacdac-ts"
import { expectFields, loadProjectServices, packetSpec, serviceSpec, type ServiceSpec } from "./service-specs"

// Service classes, register codes and the field order of every reading come from the specs in
// services/ (sim/service-specs.ts); the field lists below are what the plant fills, checked
// against the spec when this module loads.
/** The plant servers' codes from the specs; throws SpecError when a reading's fields are not what the plant fills. */
export function plantCodes(specs = loadProjectServices()) {
    const meter = serviceSpec("outlet-meter", specs)
    const battery = serviceSpec("traction-battery", specs)
    const inverter = serviceSpec("v2h-inverter", specs)
    const grid = serviceSpec("grid-meter", specs)
    const measurement = (s: ServiceSpec, fields: readonly string[]) => {
        const p = packetSpec(s, "ro", "measurement")
        expectFields(s, p, fields)
        return p.identifier
    }
    return {
        srvMeter: meter.classIdentifier,
        srvBattery: battery.classIdentifier,
        srvInverter: inverter.classIdentifier,
        srvGrid: grid.classIdentifier,
        meterReading: measurement(meter, ["power", "current", "voltage"]),
        batteryReading: measurement(battery, ["state_of_charge", "voltage", "current", "temperature", "max_discharge_current", "max_charge_current"]),
        inverterReading: measurement(inverter, ["ac_power", "dc_power", "temperature", "contactor_closed", "grid_relay_closed"]),
        gridReading: measurement(grid, ["power", "voltage", "frequency"]),
        inverterPowerCommand: packetSpec(inverter, "rw", "power_command").identifier,
        inverterContactorCommand: packetSpec(inverter, "rw", "contactor_command").identifier,
        inverterGridRelayCommand: packetSpec(inverter, "rw", "grid_relay_command").identifier,
        inverterIslandEnabled: packetSpec(inverter, "rw", "island_enabled").identifier,
    }
}
const CODES = plantCodes()
const REG_METER_READING = CODES.meterReading
const REG_BATTERY_READING = CODES.batteryReading
const REG_INV_READING = CODES.inverterReading
const REG_GRID_READING = CODES.gridReading
const REG_INV_POWER_COMMAND = CODES.inverterPowerCommand
const REG_INV_CONTACTOR_COMMAND = CODES.inverterContactorCommand
const REG_INV_GRID_RELAY_COMMAND = CODES.inverterGridRelayCommand
const REG_INV_ISLAND_ENABLED = CODES.inverterIslandEnabled
/** Standard Jacdac relay: the firmware writes its "active" register. */
const REG_RELAY_ACTIVE = RelayReg.Active

/** The decoded values of each register's data buffer (jacdac-ts replaces the buffer on every change). */
const decoded = new WeakMap<object, { data: Uint8Array | undefined; values: unknown[] }>()

/**
 * register.values(), decoded only when the register's data changed: the plant reads the firmware's
 * commands every step, and decoding them each time was a visible share of the simulator's time.
 */
function registerValues<T extends unknown[]>(reg: JDRegisterServer<T>): T {
    const hit = decoded.get(reg)
    if (hit && hit.data === reg.data) return hit.values as T
    const values = reg.values()
    decoded.set(reg, { data: reg.data, values })
    return values
}

/**
 * The V2H inverter's server with the power-stage contract's command watchdog
 * (docs/power-stage.md): it notes every command-register write of the controller; silence longer
 * than powerStage.commandTimeoutMs makes it cease to energise (see PlantServers.checkWatchdog).
 */
class InverterServer extends JDServiceServer {
    /** Bus time (ms) of the last write to a command register; undefined until the first. */
    lastCommandMs: number | undefined
    override async handlePacket(pkt: Packet) {
        if (pkt.isRegisterSet && pkt.registerIdentifier >= REG_INV_POWER_COMMAND && pkt.registerIdentifier <= REG_INV_ISLAND_ENABLED)
            this.lastCommandMs = this.timestamp
        return super.handlePacket(pkt)
    }
}

export class PlantServers {
    // Meters and the battery are plain servers that report when the plant says so (no
    // self-streaming), so that a "stale" fault really silences them.
    readonly meters: JDServiceServer[] = []
    readonly relays: JDServiceServer[] = []
    readonly mainSwitch = new SwitchServer()
    readonly buzzer = new BuzzerServer()
    readonly battery = new JDServiceServer(CODES.srvBattery, { registerValues: [{ code: REG_BATTERY_READING, values: [0, 0, 0, 0, 0, 0] }] })
    /** The e-stop mushroom button (role "estop"): pressure 1 = pressed. */
    readonly estop = new ButtonServer("estop")
    // Until a firmware drives them: no power, contactor open, the home on the grid (the grid
    // relay's rest position), no islanding.
    readonly inverter = new InverterServer(CODES.srvInverter, {
        registerValues: [
            // jacdac-ts packs bools as numbers
            { code: REG_INV_READING, values: [0, 0, 0, 0, 0] },
            { code: REG_INV_POWER_COMMAND, values: [0] },
            { code: REG_INV_CONTACTOR_COMMAND, values: [0] },
            { code: REG_INV_GRID_RELAY_COMMAND, values: [0] },
            { code: REG_INV_ISLAND_ENABLED, values: [0] },
        ],
    })
    readonly gridMeter = new JDServiceServer(CODES.srvGrid, { registerValues: [{ code: REG_GRID_READING, values: [0, 0, 0] }] })
    /** Virtual ms until which the buzzer sounds (from its last tone command). */
    buzzerUntilMs = -1
    /** Meters that stopped reporting (fault injection). */
    readonly meterSilent: boolean[] = []
    batterySilent = false
    inverterSilent = false
    gridMeterSilent = false

    constructor(
        private readonly bus: JDBus,
        outletCount: number,
    ) {
        for (let i = 0; i < outletCount; i++) {
            this.meters.push(new JDServiceServer(CODES.srvMeter, { registerValues: [{ code: REG_METER_READING, values: [0, 0, 0] }] }))
            this.relays.push(new JDServiceServer(SRV_RELAY, { intensityValues: [false] }))
            this.meterSilent.push(false)
        }
        this.buzzer.on(BuzzerServer.PLAY_TONE, (tone: BuzzerTone) => {
            this.buzzerUntilMs = bus.timestamp + tone.duration
        })
        // Order matters for the firmware's role binding: outlet 1's services come first.
        const services: JDServiceServer[] = [
            ...this.relays,
            ...this.meters,
            this.mainSwitch,
            this.buzzer,
            this.battery,
            this.inverter,
            this.gridMeter,
            this.estop,
        ]
        bus.addServiceProvider(new JDServerServiceProvider("charger-plant", services, { deviceId: "5151a4e0cafe0001" }))
    }

    /** What the firmware last wrote to outlet i's relay. */
    relayCommand(i: number): boolean {
        const v = registerValues(this.relays[i].register<[number | boolean]>(REG_RELAY_ACTIVE))
        return !!v?.[0]
    }

    /** Reports outlet i's measurement now (unless its meter is faulted silent). */
    async reportMeter(i: number, powerW: number, currentA: number, voltageV: number) {
        if (this.meterSilent[i]) return
        const reading = this.meters[i].register(REG_METER_READING)
        reading.setValues([powerW, currentA, voltageV], true)
        await reading.sendGetAsync()
    }

    async reportBattery(socPct: number, voltageV: number, currentA: number, tempC: number, maxDischargeA: number, maxChargeA: number) {
        if (this.batterySilent) return
        const reading = this.battery.register(REG_BATTERY_READING)
        reading.setValues([socPct, voltageV, currentA, tempC, maxDischargeA, maxChargeA], true)
        await reading.sendGetAsync()
    }

    /** What the firmware last wrote to the inverter. */
    inverterCommand(): { powerW: number; contactor: boolean; gridRelay: boolean; island: boolean } {
        return {
            powerW: Number(this.inverterValue(REG_INV_POWER_COMMAND) ?? 0),
            contactor: !!this.inverterValue(REG_INV_CONTACTOR_COMMAND),
            gridRelay: !!this.inverterValue(REG_INV_GRID_RELAY_COMMAND),
            island: !!this.inverterValue(REG_INV_ISLAND_ENABLED),
        }
    }

    // A method, not a closure made per call: the plant reads the commands every step.
    private inverterValue(code: number): number | boolean | undefined {
        return registerValues(this.inverter.register<[number | boolean]>(code))?.[0]
    }

    async reportInverter(acPowerW: number, dcPowerW: number, tempC: number, contactorClosed: boolean, gridRelayClosed: boolean) {
        if (this.inverterSilent) return
        const reading = this.inverter.register(REG_INV_READING)
        reading.setValues([acPowerW, dcPowerW, tempC, contactorClosed ? 1 : 0, gridRelayClosed ? 1 : 0], true)
        await reading.sendGetAsync()
    }

    async reportGrid(powerW: number, voltageV: number, frequencyHz: number) {
        if (this.gridMeterSilent) return
        const reading = this.gridMeter.register(REG_GRID_READING)
        reading.setValues([powerW, voltageV, frequencyHz], true)
        await reading.sendGetAsync()
    }

    async setMainSwitch(on: boolean) {
        this.mainSwitch.reading.setValues([on], true)
        await this.mainSwitch.reading.sendGetAsync()
    }

    /**
     * What a controller restart does to the hardware it drives: the board's relay outputs drop
     * (relays open) and the inverter, losing its link, stops and opens its DC contactor. The grid
     * relay and islanding keep their state (the inverter holds them until told otherwise).
     */
    outputsToRestartState() {
        for (const r of this.relays) r.register(REG_RELAY_ACTIVE).setValues([false], true)
        this.inverterCeases()
    }

    /** The inverter without a controller: 0 W, DC contactor open (grid relay and islanding as they were). */
    inverterCeases() {
        this.inverter.register(REG_INV_POWER_COMMAND).setValues([0], true)
        this.inverter.register(REG_INV_CONTACTOR_COMMAND).setValues([0], true)
    }

    /** Whether the inverter has ceased to energise on command silence (until the next command). */
    watchdogTripped = false

    /**
     * The power stage's watchdog: once the controller has commanded it, a silence longer than
     * timeoutMs drops the inverter to what it does when its link is lost (inverterCeases:
     * 0 W, DC contactor open). Returns true at the moment it trips. A later command re-arms it;
     * the inverter does not re-energise by itself (the dropped registers stay dropped until the
     * controller writes them again).
     */
    checkWatchdog(nowMs: number, timeoutMs: number): boolean {
        const last = this.inverter.lastCommandMs
        if (last === undefined) return false
        if (this.watchdogTripped) {
            if (nowMs - last < timeoutMs) this.watchdogTripped = false
            return false
        }
        if (nowMs - last <= timeoutMs) return false
        this.watchdogTripped = true
        this.inverterCeases()
        return true
    }

    /** Presses or releases the e-stop: the down/up event, and the reading pushed at once. */
    async setEstop(pressed: boolean) {
        if (pressed) await this.estop.down()
        else await this.estop.up()
        this.estop.reading.setValues([pressed ? 1 : 0], true)
        await this.estop.reading.sendGetAsync()
    }

    buzzerOn(): boolean {
        return this.bus.timestamp < this.buzzerUntilMs
    }
}
