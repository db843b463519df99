// Reconnect backoff: the delay before the next connection attempt doubles with every failure,
// from backoffMinMs up to backoffMaxMs, shortened by a random 0..backoffJitterPct % so that many
// chargers that lost the same broker do not come back in step. A successful connection resets it.
//
// Pure: the random number is an input (the shell passes Math.random()). DeviceScript subset.
import type { DevsConfig } from "../../config/devs.gen"

export type BackoffConfig = Pick<DevsConfig["mqtt"], "backoffMinMs" | "backoffMaxMs" | "backoffJitterPct">

export class Backoff {
    /** Failed attempts since the last success. */
    failures = 0

    constructor(private readonly cfg: BackoffConfig) {}

    /** Records a failed (or lost) connection and returns the delay before the next attempt, ms. */
    nextDelayMs(random01: number): number {
        const c = this.cfg
        let baseMs = c.backoffMinMs
        for (let i = 0; i < this.failures && baseMs < c.backoffMaxMs; i++) baseMs = baseMs * 2
        if (baseMs > c.backoffMaxMs) baseMs = c.backoffMaxMs
        this.failures++
        const r = random01 >= 0 && random01 < 1 ? random01 : 0
        const delayMs = Math.round(baseMs * (1 - (c.backoffJitterPct / 100) * r))
        return Math.max(c.backoffMinMs, delayMs)
    }

    /** A connection succeeded: the next failure starts again at backoffMinMs. */
    reset() {
        this.failures = 0
    }
}
