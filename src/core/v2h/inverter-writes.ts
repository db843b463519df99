// What reaches the inverter, and in which order. The supervisor decides the desired state (power
// command, DC contactor, islanding, grid relay, transfer contact, cease to energize); this plans the register writes that bring the
// inverter there: only the ones that changed since they were last written (every write is a bus
// round trip, and the runtime queues them), all of them after the role (re)binds, and in an order
// that is safe at every step:
//   0. CEASE TO ENERGIZE first when it is asked: a trip, e-stop or fault stops conduction within
//      one AC cycle of this write, whatever the power command still says; with the inverter ceased,
//      the house's transfer contact back to the GRID (its rest) comes next: nothing forms the island
//      any more (break-before-make holds), and the house does not wait on a live grid behind the
//      power and island writes (each a bus round trip; chaos seeds 91, 122);
//   1. an OPENING contactor next: normally the power is already ~0 (the supervisor ramps down
//      before it opens), and in an emergency the contactor is what must open at once;
//   2. the power command, then islanding;
//   3. a CLOSING contactor after the power command (the inverter never closes onto a stale one);
//   4. the grid relay, then the house's transfer contact;
//   5. conversion RELEASED (cease off) last, once the power command it will follow is written.
// And the keepalive: the power stage's watchdog (docs/power-stage.md) feeds on the power
// command and ceases conversion when it starves, so once powerStage.keepaliveMs has passed since
// the shell last began writing one, the unchanged command goes out again (after the planned
// writes, which may have written it already).
//
// Pure, allocation-free per plan (the write list is reused); DeviceScript subset.

export type InverterRegister = "contactor" | "power" | "island" | "grid_relay" | "transfer" | "cease"

export interface InverterWrite {
    register: InverterRegister
    /** The value for "contactor", "island", "grid_relay", "transfer" and "cease". */
    on: boolean
    /** The value for "power" (W, + discharge, whole watts). */
    powerW: number
}

/** The desired inverter state (the supervisor's V2hStatus has these fields). */
export interface InverterCommand {
    commandW: number
    contactorCmd: boolean
    islandCmd: boolean
    gridRelayCmd: boolean
    transferCmd: boolean
    ceaseCmd: boolean
}

export class InverterWrites {
    /** The writes of the last plan(), in order: entries 0 .. count-1. */
    readonly writes: InverterWrite[] = []
    count = 0
    // As last written; null = unknown (written at the next plan).
    private powerW: number = null
    private contactor: boolean = null
    private island: boolean = null
    private gridRelay: boolean = null
    private transfer: boolean = null
    private cease: boolean = null
    /** When the shell last began writing the power command, ms. */
    private powerAtMs = -1e12

    /** keepaliveMs: the power command goes out at least this often (powerStage.keepaliveMs). */
    constructor(private readonly keepaliveMs: number) {
        for (let i = 0; i < 6; i++) this.writes.push({ register: "power", on: false, powerW: 0 })
    }

    /** Forgets what was written (the role is absent or bound again): the next plan writes everything. */
    forget() {
        this.powerW = null
        this.contactor = null
        this.island = null
        this.gridRelay = null
        this.transfer = null
        this.cease = null
    }

    /**
     * Plans the writes that bring the inverter to `cmd` and counts them as written (the shell
     * writes them in order at once). Returns how many there are.
     */
    plan(cmd: InverterCommand): number {
        this.count = 0
        const w = Math.round(cmd.commandW)
        if (cmd.ceaseCmd && this.cease !== true) {
            this.cease = true
            this.add("cease", true, 0)
        }
        if (cmd.ceaseCmd && !cmd.transferCmd && this.transfer !== false) {
            this.transfer = false
            this.add("transfer", false, 0)
        }
        if (!cmd.contactorCmd && this.contactor !== false) {
            this.contactor = false
            this.add("contactor", false, 0)
        }
        if (this.powerW !== w) {
            this.powerW = w
            this.add("power", false, w)
        }
        if (this.island !== cmd.islandCmd) {
            this.island = cmd.islandCmd
            this.add("island", cmd.islandCmd, 0)
        }
        if (cmd.contactorCmd && this.contactor !== true) {
            this.contactor = true
            this.add("contactor", true, 0)
        }
        if (this.gridRelay !== cmd.gridRelayCmd) {
            this.gridRelay = cmd.gridRelayCmd
            this.add("grid_relay", cmd.gridRelayCmd, 0)
        }
        if (this.transfer !== cmd.transferCmd) {
            this.transfer = cmd.transferCmd
            this.add("transfer", cmd.transferCmd, 0)
        }
        if (!cmd.ceaseCmd && this.cease !== false) {
            this.cease = false
            this.add("cease", false, 0)
        }
        return this.count
    }

    /** The shell begins writing the power command at atMs (a planned write or a keepalive). */
    powerWritten(atMs: number) {
        this.powerAtMs = atMs
    }

    /**
     * After the planned writes: true when the power command is due again at nowMs (keepaliveMs
     * since the shell last began writing one); the shell then writes `lastPowerW()`.
     */
    keepaliveDue(nowMs: number): boolean {
        return nowMs - this.powerAtMs >= this.keepaliveMs
    }

    /** The power command as last planned (W, whole watts; null before the first plan or after forget()). */
    lastPowerW(): number {
        return this.powerW
    }

    private add(register: InverterRegister, on: boolean, powerW: number) {
        const e = this.writes[this.count++]
        e.register = register
        e.on = on
        e.powerW = powerW
    }
}
