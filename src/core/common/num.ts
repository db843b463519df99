// Numeric helpers that stay inside the DeviceScript subset (no Number.isFinite there).

/** True for a number that is neither NaN nor +-Infinity. */
export function isFiniteNumber(x: any): boolean {
    return typeof x === "number" && x - x === 0
}
