// What reaches the outlet relays and the outlets' supply contactor, and in which order. The
// protection decides each relay (outletOn), the supply check decides the contactor
// (outlet-supply.ts); this plans the register writes that bring the hardware there:
//   - only what changed since it was last written (every write is a bus round trip and the
//     runtime queues them; periodic re-writes delayed the ones that matter by 60-260 ms each in
//     the simulator), and everything again once a role (re)binds (a server that restarted gets
//     its state again);
//   - nothing to a role that is not bound (it is written when it binds);
//   - a supply CUT first: the second means acts before any relay write can queue in front of it;
//   - the relays, in outlet order;
//   - a supply RESTORE last: the outlets are supplied again only once their relays are written.
//
// Pure, allocation-free per plan (the write list is reused); DeviceScript subset.

/** The supply contactor's place in OutletWrite.outlet. */
export const SUPPLY_CONTACTOR = -1

export interface OutletWrite {
    /** The outlet index (0-based) of the relay to write, or SUPPLY_CONTACTOR. */
    outlet: number
    on: boolean
}

export class OutletWrites {
    /** The writes of the last plan(), in order: entries 0 .. count-1. */
    readonly writes: OutletWrite[] = []
    count = 0
    // As last written; null or absent = unknown (written at the next plan).
    private readonly relay: boolean[] = []
    private supply: boolean = null

    /** outletCount: the configured outlets (outlets.count); plans take one command per outlet. */
    constructor(outletCount: number) {
        for (let i = 0; i < outletCount + 1; i++) this.writes.push({ outlet: 0, on: false })
    }

    /** Outlet i's relay role bound or unbound: its command is written again when it is bound. */
    forgetRelay(i: number) {
        this.relay[i] = null
    }

    /** The supply contactor's role bound or unbound: its command is written again when it is bound. */
    forgetSupply() {
        this.supply = null
    }

    /**
     * Plans the writes for the relay commands `relayOn` (one per outlet) and the supply command `supplyOn`, given
     * which roles are bound now, and counts them as written (the shell writes them in order at
     * once). Returns how many there are.
     */
    plan(relayOn: boolean[], relayBound: boolean[], supplyOn: boolean, supplyBound: boolean): number {
        this.count = 0
        if (!supplyBound) this.supply = null
        else if (!supplyOn && this.supply !== false) {
            this.supply = false
            this.add(SUPPLY_CONTACTOR, false)
        }
        for (let i = 0; i < relayOn.length; i++) {
            if (!relayBound[i]) this.relay[i] = null
            else if (this.relay[i] !== relayOn[i]) {
                this.relay[i] = relayOn[i]
                this.add(i, relayOn[i])
            }
        }
        if (supplyBound && supplyOn && this.supply !== true) {
            this.supply = true
            this.add(SUPPLY_CONTACTOR, true)
        }
        return this.count
    }

    private add(outlet: number, on: boolean) {
        const e = this.writes[this.count++]
        e.outlet = outlet
        e.on = on
    }
}
