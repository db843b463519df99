// The outlets' second, independent means of disconnection: the outlet inverter's upstream supply
// contactor (role `outletSupply`, a board relay that rests open). Each outlet relay is the first
// means; when one is welded the relay command has no effect, and a short or an overload on that
// outlet would go on being delivered. This module decides when the supply must be cut:
//
//   - an outlet that the protection commands off still draws more than
//     v2h.contactor.weldedPowerW on a reading taken at least outlets.relayReleaseMs after the
//     OFF COMMAND WAS WRITTEN to the relay (written(): the shell's write can queue for tens of
//     ms behind other bus writes, so the protection tick's decision time is not when the relay
//     began to open): its relay is
//     welded. The supply is cut at once, in the protection tick that sees that reading, so the
//     trip curve holds (an instant trip stays instant: the meter's next report). A reading taken
//     before the command (the load that made the protection cut it) proves nothing: judging it
//     cut the supply at every shed and trip (outlet-three-outlets). The outlet stays
//     marked welded (the cut supply hides the draw, so it cannot be proven again) until the
//     protection turns that outlet on again (its reset at the outlet switch): then the supply
//     comes back, and a relay still welded is caught again the next time it is commanded off;
//   - the e-stop.
// Cutting the supply darkens both outlets (one contactor feeds the outlet inverter): the
// conservative choice with a welded relay.
//
// Pure; DeviceScript subset.

export interface OutletSupplyInput {
    /** Relay command per outlet (the protection's outletOn). */
    outletOn: boolean[]
    /** Delivered power per outlet, W (NaN when not fresh: a stale meter never proves a weld). */
    outletW: number[]
    /** When each outlet's reading was taken, ms. */
    outletAtMs: number[]
    weldedPowerW: number
    /** outlets.relayReleaseMs: how long after the off command a reading can prove a weld. */
    relayReleaseMs: number
    estop: boolean
}

export class OutletSupply {
    /** Per outlet: seen delivering with its relay commanded off (welded), until it is commanded on again. */
    readonly welded: boolean[] = []
    /** Per outlet: when the off command was written to its relay (ms; -1 while on or not written). */
    private readonly offAtMs: number[] = []

    /** The shell wrote outlet i's relay command at atMs. */
    written(i: number, on: boolean, atMs: number) {
        while (this.offAtMs.length <= i) this.offAtMs.push(-1)
        this.offAtMs[i] = on ? -1 : atMs
    }

    /** The supply contactor command for this tick: true = outlets supplied. */
    update(inp: OutletSupplyInput): boolean {
        let on = !inp.estop
        for (let i = 0; i < inp.outletOn.length; i++) {
            if (this.welded.length <= i) this.welded.push(false)
            while (this.offAtMs.length <= i) this.offAtMs.push(-1)
            if (inp.outletOn[i]) this.welded[i] = false
            else if (this.offAtMs[i] >= 0 && inp.outletAtMs[i] - this.offAtMs[i] >= inp.relayReleaseMs && inp.outletW[i] > inp.weldedPowerW)
                this.welded[i] = true
            if (this.welded[i]) on = false
        }
        return on
    }
}
