// A token bucket: up to `burst` at once, `perS` sustained. Commands from the HEMS link pass it
// before they are parsed, so a flood costs a counter increment per message, not a JSON parse and
// a command event each; the excess is counted.
//
// Pure: time is an input. DeviceScript subset.

export class RateLimit {
    private tokens: number
    private lastMs = -1
    /** Refused since creation. */
    refused = 0
    /** True from the first refusal until the next admission: callers report an episode once. */
    limiting = false

    constructor(
        private readonly perS: number,
        private readonly burst: number,
    ) {
        this.tokens = burst
    }

    /** True when one more may pass now (and takes its token); false when over the rate (counted). */
    take(nowMs: number): boolean {
        if (this.lastMs >= 0 && nowMs > this.lastMs) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.perS) / 1000)
        if (this.lastMs < 0 || nowMs > this.lastMs) this.lastMs = nowMs
        if (this.tokens >= 1) {
            this.tokens -= 1
            this.limiting = false
            return true
        }
        this.refused++
        this.limiting = true
        return false
    }
}
