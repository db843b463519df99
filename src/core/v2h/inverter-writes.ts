// What reaches the inverter, and in which order. The supervisor decides the desired state (power
// command, DC contactor, islanding, grid relay); this plans the register writes that bring the
// inverter there: only the ones that changed since they were last written (every write is a bus
// round trip, and the runtime queues them), all of them after the role (re)binds, and in an order
// that is safe at every step:
//   1. an OPENING contactor first: normally the power is already ~0 (the supervisor ramps down
//      before it opens), and in an emergency the contactor is what must open at once;
//   2. the power command, then islanding;
//   3. a CLOSING contactor after the power command (the inverter never closes onto a stale one);
//   4. the grid relay last.
//
// Pure, allocation-free per plan (the write list is reused); DeviceScript subset.

export type InverterRegister = "contactor" | "power" | "island" | "grid_relay"

export interface InverterWrite {
    register: InverterRegister
    /** The value for "contactor", "island" and "grid_relay". */
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

    constructor() {
        for (let i = 0; i < 4; i++) this.writes.push({ register: "power", on: false, powerW: 0 })
    }

    /** Forgets what was written (the role is absent or bound again): the next plan writes everything. */
    forget() {
        this.powerW = null
        this.contactor = null
        this.island = null
        this.gridRelay = null
    }

    /**
     * Plans the writes that bring the inverter to `cmd` and counts them as written (the shell
     * writes them in order at once). Returns how many there are.
     */
    plan(cmd: InverterCommand): number {
        this.count = 0
        const w = Math.round(cmd.commandW)
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
        return this.count
    }

    private add(register: InverterRegister, on: boolean, powerW: number) {
        const e = this.writes[this.count++]
        e.register = register
        e.on = on
        e.powerW = powerW
    }
}
