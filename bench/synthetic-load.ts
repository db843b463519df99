// The synthetic load both protection benchmarks drive the core with (Node and VM alike;
// DeviceScript subset): within budget, overload, cool-down, in blocks of 64 ticks.
import { ProtectionInput } from "../src/core/outlets/io"

export function benchInput(): ProtectionInput {
    return {
        nowMs: 0,
        mainSwitchOn: true,
        outlets: [
            { powerW: 0, currentA: 0, atMs: 0 },
            { powerW: 0, currentA: 0, atMs: 0 },
        ],
        socPct: 80,
        socAtMs: 0,
    }
}

/** Fills input for tick k (0-based) at tickMs per tick. */
export function loadTick(input: ProtectionInput, k: number, tickMs: number) {
    const now = (k + 1) * tickMs
    const w = 900 + 700 * ((k >> 6) % 3)
    input.nowMs = now
    input.socAtMs = now
    input.outlets[0].powerW = w
    input.outlets[0].currentA = w / 100
    input.outlets[0].atMs = now
    input.outlets[1].powerW = 300
    input.outlets[1].currentA = 3
    input.outlets[1].atMs = now
}
