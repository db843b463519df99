// The one arbitration place for V2H power. Every limit that can restrict the inverter's power is
// a CLAIM: a window [loW, hiW] in signed watts (+ discharge to the home, - charge) with a reason.
// Every window contains 0 W (stopping is always allowed), so the windows always intersect; the
// target is the request clamped into the intersection. The reasons have a PRIORITY order —
// safety > outlet protection > SoC reserve > HEMS request > local mode — and when several claims
// bind at the same bound, the one earlier in that order is reported as governing. Every claim in
// force is also reported (bit mask over the wire codes), so status shows why power is what it is.
//
// A reason's WIRE CODE (the LimitReason enum of services/charger-control.md: limit_reason and the
// bit in limit_mask) is separate from its priority and append-only: a new reason takes the next
// free code wherever its priority puts it, so HEMS clients never see the old codes move.
//
// Pure, allocation-free; DeviceScript subset.

export type LimitReason =
    | "none" // the request is not restricted
    // --- safety ---
    | "estop" // emergency stop latched
    | "fault" // another latched fault
    | "battery_stale" // no fresh vehicle/battery data
    | "inverter_stale" // no fresh inverter feedback
    | "grid_meter_stale" // no fresh grid-meter reading (cannot check grid or reverse flow)
    | "grid_lost" // grid outside the trip table (or unknown) and not islanded
    | "grid_reconnecting" // grid back in band, waiting out the enter-service delay
    | "enter_service_ramp" // power limit ramping up after reconnection
    | "rating" // inverter rating
    | "over_temperature" // inverter temperature derating
    | "vehicle_discharge_limit" // vehicle's allowed discharge current x battery voltage
    | "vehicle_charge_limit" // vehicle's allowed charge current x battery voltage
    | "no_reverse_flow" // discharge <= house net load (no export to the grid)
    | "grid_import_limit" // charging throttled to keep grid import under the main breaker
    | "islanded_limit" // islanded (backup) supply limit
    | "direction_dwell" // minimum time at 0 W between discharging and charging
    // --- outlet protection ---
    | "outlet_share" // the accessory outlets come first: vehicle allowance minus their draw
    // --- SoC reserve ---
    | "soc_reserve" // discharge stops at the reserve (hysteresis)
    | "charge_limit" // charging stops at the charge limit (hysteresis)

/**
 * Every reason in PRIORITY order ("none" first) with its wire code: never reused or renumbered; a
 * new reason takes the next free one. The type makes the compiler insist on every reason, once.
 * (One map, not a list of { reason, code } objects: DeviceScript builds literals with code, and an
 * image's code section is limited to 64 KiB, docs/boards.md.)
 */
const LIMIT_CODES: Record<LimitReason, number> = {
    none: 0,
    estop: 1,
    fault: 2,
    battery_stale: 3,
    inverter_stale: 4,
    grid_meter_stale: 5,
    grid_lost: 6,
    grid_reconnecting: 7,
    enter_service_ramp: 8,
    rating: 9,
    over_temperature: 10,
    vehicle_discharge_limit: 11,
    vehicle_charge_limit: 12,
    no_reverse_flow: 13,
    grid_import_limit: 14,
    islanded_limit: 15,
    direction_dwell: 16,
    outlet_share: 17,
    soc_reserve: 18,
    charge_limit: 19,
}

/** The reasons in priority order: LimitSet's slots (claimAt takes an index into this list). */
export const LIMIT_PRIORITY = Object.keys(LIMIT_CODES) as LimitReason[]
/** Wire code of LIMIT_PRIORITY[i]. */
const SLOT_CODE: number[] = []
/** Wire order: LIMIT_REASONS[code] (services/charger-control.md enum LimitReason; bit `code` of limit_mask). */
export const LIMIT_REASONS: LimitReason[] = []
for (const reason of LIMIT_PRIORITY) {
    SLOT_CODE.push(LIMIT_CODES[reason])
    LIMIT_REASONS.push("none")
}
for (let i = 0; i < LIMIT_PRIORITY.length; i++) LIMIT_REASONS[SLOT_CODE[i]] = LIMIT_PRIORITY[i]

/** The wire code of a reason (-1 when it is not one). */
export function limitCode(reason: LimitReason): number {
    const i = LIMIT_PRIORITY.indexOf(reason)
    return i < 0 ? -1 : SLOT_CODE[i]
}

export type LimitTier = "request" | "safety" | "outlet_protection" | "soc_reserve"

/** The priority tier of a limit reason. */
export function limitTier(reason: LimitReason): LimitTier {
    if (reason === "none") return "request"
    if (reason === "outlet_share") return "outlet_protection"
    if (reason === "soc_reserve" || reason === "charge_limit") return "soc_reserve"
    return "safety"
}

/** Where the request came from (what the HEMS or the local mode asked for). */
export type RequestSource = "idle" | "hems" | "fallback" | "local" | "backup"
export const REQUEST_SOURCES: RequestSource[] = ["idle", "hems", "fallback", "local", "backup"]

export class LimitSet {
    readonly loW: number[] = []
    readonly hiW: number[] = []
    readonly active: boolean[] = []
    /** Intersection of all claims (after resolve). */
    windowLoW = 0
    windowHiW = 0
    /** The governing reason of the last resolve: the claim the target was clamped by, or "none". */
    governing: LimitReason = "none"
    /** Bit c set = the reason with wire code c (LIMIT_REASONS[c]) in force. */
    mask = 0

    constructor() {
        for (let i = 0; i < LIMIT_PRIORITY.length; i++) {
            this.loW.push(0)
            this.hiW.push(0)
            this.active.push(false)
        }
    }

    clear() {
        for (let i = 0; i < this.active.length; i++) this.active[i] = false
        this.mask = 0
    }

    /** Claims a window for a reason (0 W is always inside: loW <= 0 <= hiW is enforced). */
    claim(reason: LimitReason, loW: number, hiW: number) {
        this.claimAt(LIMIT_PRIORITY.indexOf(reason), loW, hiW)
    }

    /** claim() by index into LIMIT_PRIORITY (the supervisor's hot path: no string search). */
    claimAt(i: number, loW: number, hiW: number) {
        const lo = loW > 0 ? 0 : loW
        const hi = hiW < 0 ? 0 : hiW
        if (this.active[i]) {
            if (lo > this.loW[i]) this.loW[i] = lo
            if (hi < this.hiW[i]) this.hiW[i] = hi
        } else {
            this.active[i] = true
            this.loW[i] = lo
            this.hiW[i] = hi
            this.mask |= 1 << SLOT_CODE[i]
        }
    }

    /** The request clamped into every claim; sets windowLoW/HiW and governing. NaN requests count as 0. */
    resolve(requestW: number): number {
        let lo = -1e12
        let hi = 1e12
        let loIdx = 0
        let hiIdx = 0
        // Walk in priority order; a later claim only takes over a bound it makes strictly tighter.
        for (let i = 1; i < LIMIT_PRIORITY.length; i++) {
            if (!this.active[i]) continue
            if (this.loW[i] > lo) {
                lo = this.loW[i]
                loIdx = i
            }
            if (this.hiW[i] < hi) {
                hi = this.hiW[i]
                hiIdx = i
            }
        }
        this.windowLoW = lo
        this.windowHiW = hi
        const r = requestW === requestW ? requestW : 0
        if (r > hi) {
            this.governing = LIMIT_PRIORITY[hiIdx]
            return hi
        }
        if (r < lo) {
            this.governing = LIMIT_PRIORITY[loIdx]
            return lo
        }
        this.governing = "none"
        return r
    }

    /** Reasons in force, in priority order (allocates: for status reports, not the tick). */
    activeReasons(): LimitReason[] {
        const out: LimitReason[] = []
        for (let i = 1; i < LIMIT_PRIORITY.length; i++) if (this.active[i]) out.push(LIMIT_PRIORITY[i])
        return out
    }
}
