// Which outlets a trip or a shed cuts. Outlets are ordered from lowest to highest priority (the
// high-priority outlet last); a cut takes as few outlets as bring the remaining load within budget,
// lowest priority first.
//
// Pure; DeviceScript subset. chooseCut allocates its answer (it runs only when a trip is decided).
import type { ProtectionConfig } from "./io"

/** Load ratio r = max(P / budgetPowerW, I / budgetCurrentA), rounded to 1e-9 so band edges are not missed by float noise. */
export function loadRatio(o: ProtectionConfig["outlets"], powerW: number, currentA: number): number {
    return Math.round(Math.max(powerW / o.budgetPowerW, currentA / o.budgetCurrentA) * 1e9) / 1e9
}

/** Outlet indices (0-based) from lowest to highest priority: the high-priority outlet (1-based) last. */
export function shedOrder(n: number, highPriority: number): number[] {
    const order: number[] = []
    for (let i = 0; i < n; i++) if (i !== highPriority - 1) order.push(i)
    order.push(highPriority - 1)
    return order
}

/**
 * The smallest cut that brings the remaining load to r <= 1, trying in order: one outlet
 * (lowest priority first), then the k lowest-priority outlets together; all outlets that
 * are on when nothing less will do. `avail` marks the outlets that are on; sumP/sumI their load.
 */
export function chooseCut(
    o: ProtectionConfig["outlets"],
    prio: number[],
    avail: boolean[],
    pW: number[],
    iA: number[],
    sumP: number,
    sumI: number,
): number[] {
    const order: number[] = []
    for (let k = 0; k < prio.length; k++) if (avail[prio[k]]) order.push(prio[k])
    for (let k = 0; k < order.length; k++) {
        const i = order[k]
        if (loadRatio(o, sumP - pW[i], sumI - iA[i]) <= 1) return [i]
    }
    let p = sumP
    let a = sumI
    for (let k = 0; k < order.length; k++) {
        p -= pW[order[k]]
        a -= iA[order[k]]
        if (loadRatio(o, p, a) <= 1) return order.slice(0, k + 1)
    }
    return order
}
