// One small timing primitive for the patterns the cores kept writing by hand (PX4's Hysteresis is
// the model): a boolean state with
//  - time hysteresis: update(requested) follows a request once it has been held for the hold
//    time of that direction (trueAfterMs for false -> true, falseAfterMs for true -> false), so
//    Hysteresis(false, N, 0) is "the condition has held for N ms" and drops at once;
//  - level hysteresis: band(setWhen, clearWhen) requests true while setWhen, false while
//    clearWhen, and keeps the request in between (a Schmitt trigger over two thresholds);
//  - a since-timestamp: changedAtMs / forMs() say how long the state has been what it is
//    (minimum on/off times, feedback timeouts), and set() changes it at once.
//
// Allocation-free after construction, no clock (time comes in as nowMs); DeviceScript subset.
export class Hysteresis {
    /** The state. */
    state: boolean
    /** When the state last changed (ms; the construction time until then). */
    changedAtMs: number
    private requested: boolean
    private requestedAtMs: number

    /**
     * @param initial the state until the first change
     * @param trueAfterMs how long true must be requested before the state becomes true
     * @param falseAfterMs how long false must be requested before the state becomes false
     * @param atMs the time the initial state counts from
     */
    constructor(
        initial: boolean,
        private readonly trueAfterMs: number,
        private readonly falseAfterMs: number,
        atMs: number,
    ) {
        this.state = initial
        this.requested = initial
        this.changedAtMs = atMs
        this.requestedAtMs = atMs
    }

    /** Requests a state; returns the state, which follows once the request has been held for its hold time. */
    update(requested: boolean, nowMs: number): boolean {
        if (requested === this.state) this.requested = requested
        else {
            if (requested !== this.requested) {
                this.requested = requested
                this.requestedAtMs = nowMs
            }
            if (nowMs - this.requestedAtMs >= (requested ? this.trueAfterMs : this.falseAfterMs)) {
                this.state = requested
                this.changedAtMs = nowMs
            }
        }
        return this.state
    }

    /** Level hysteresis: requests true while setWhen (it wins), false while clearWhen, else keeps the request. */
    band(setWhen: boolean, clearWhen: boolean, nowMs: number): boolean {
        if (setWhen) return this.update(true, nowMs)
        if (clearWhen) return this.update(false, nowMs)
        return this.update(this.requested, nowMs)
    }

    /** Sets the state now (no hold time) and drops a pending request; changedAtMs moves only on a change. */
    set(state: boolean, nowMs: number) {
        this.requested = state
        this.requestedAtMs = nowMs
        if (state !== this.state) {
            this.state = state
            this.changedAtMs = nowMs
        }
    }

    /** Starts over in `state`, as if it had been entered at atMs. */
    reset(state: boolean, atMs: number) {
        this.state = state
        this.requested = state
        this.changedAtMs = atMs
        this.requestedAtMs = atMs
    }

    /** How long the state has been what it is, ms. */
    forMs(nowMs: number): number {
        return nowMs - this.changedAtMs
    }
}
