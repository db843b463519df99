// The one arbitration place for V2H power. Every limit that can restrict the inverter's power is
// a CLAIM: a window [loW, hiW] in signed watts (+ discharge to the home, - charge) with a reason.
// Every window contains 0 W (stopping is always allowed), so the windows always intersect; the
// target is the request clamped into the intersection. The reasons are listed in PRIORITY order —
// safety > outlet protection > SoC reserve > HEMS request > local mode — and when several claims
// bind at the same bound, the one earlier in this list is reported as governing. Every claim in
// force is also reported (bit mask over LIMIT_REASONS), so status shows why power is what it is.
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

/** Priority order = wire order (services/charger-control.md enum LimitReason). */
export const LIMIT_REASONS: LimitReason[] = [
    "none",
    "estop",
    "fault",
    "battery_stale",
    "inverter_stale",
    "grid_meter_stale",
    "grid_lost",
    "grid_reconnecting",
    "enter_service_ramp",
    "rating",
    "over_temperature",
    "vehicle_discharge_limit",
    "vehicle_charge_limit",
    "no_reverse_flow",
    "grid_import_limit",
    "islanded_limit",
    "direction_dwell",
    "outlet_share",
    "soc_reserve",
    "charge_limit",
]

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
    /** Bit i set = LIMIT_REASONS[i] in force. */
    mask = 0

    constructor() {
        for (let i = 0; i < LIMIT_REASONS.length; i++) {
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
        this.claimAt(LIMIT_REASONS.indexOf(reason), loW, hiW)
    }

    /** claim() by index into LIMIT_REASONS (the supervisor's hot path: no string search). */
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
            this.mask |= 1 << i
        }
    }

    /** The request clamped into every claim; sets windowLoW/HiW and governing. NaN requests count as 0. */
    resolve(requestW: number): number {
        let lo = -1e12
        let hi = 1e12
        let loIdx = 0
        let hiIdx = 0
        // Walk in priority order; a later claim only takes over a bound it makes strictly tighter.
        for (let i = 1; i < LIMIT_REASONS.length; i++) {
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
            this.governing = LIMIT_REASONS[hiIdx]
            return hi
        }
        if (r < lo) {
            this.governing = LIMIT_REASONS[loIdx]
            return lo
        }
        this.governing = "none"
        return r
    }

    /** Reasons in force, in priority order (allocates: for status reports, not the tick). */
    activeReasons(): LimitReason[] {
        const out: LimitReason[] = []
        for (let i = 1; i < LIMIT_REASONS.length; i++) if (this.active[i]) out.push(LIMIT_REASONS[i])
        return out
    }
}
