// Random fault schedules for the chaos test (issue 11): a scenario of CHAOS_S seconds of random
// events (loads with inrush, HEMS commands and modes, house and PV steps, grid losses and V/f
// excursions, sensor dropouts, welded contacts, e-stops, restarts, temperature steps), then a
// recovery phase: every fault cleared, the grid back in band, the local fault reset, the outlets
// reset at their switch, and a fresh setpoint. Deterministic per seed (its own PRNG).

export const CHAOS_S = 90
export const RECOVERY_AT_S = CHAOS_S + 2
export const FRESH_SETPOINT_W = 1500
/** When the fresh setpoint is sent, and the run's end. */
export const FRESH_SETPOINT_AT_S = RECOVERY_AT_S + 20
export const CHAOS_DURATION_S = FRESH_SETPOINT_AT_S + 40

/** mulberry32: a small, good-enough 32-bit PRNG. */
export function prng(seed: number): () => number {
    let a = seed >>> 0
    return () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
}

const SENSOR_FAULTS = ["outlet1_meter_stale", "outlet2_meter_stale", "battery_stale", "inverter_stale", "grid_meter_stale"]
const WELDS = ["outlet1_relay_welded", "outlet2_relay_welded", "contactor_welded", "grid_relay_welded"]

type Ev = Record<string, unknown> & { at_s: number }

/** The scenario JSON (the library's format) for one seed. */
export function chaosScenario(seed: number): any {
    const r = prng(seed)
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]
    const range = (lo: number, hi: number) => lo + r() * (hi - lo)
    const t = (lo = 1, hi = CHAOS_S - 1) => Math.round(range(lo, hi) * 100) / 100
    const events: Ev[] = []
    const n = 12 + Math.floor(r() * 16)
    for (let i = 0; i < n; i++) {
        const at = t()
        const kind = pick(["load", "load", "hems", "hems", "house", "pv", "grid", "sensor", "weld", "estop", "restart", "temp"])
        switch (kind) {
            case "load": {
                const loadW = Math.round(pick([0, range(50, 1400), range(1400, 2500), range(2500, 6000)]))
                const e: Ev = { at_s: at, outlet: pick([1, 2]), load_w: loadW }
                if (loadW > 0 && r() < 0.5) Object.assign(e, { inrush_w: Math.round(loadW * range(1.5, 4)), inrush_s: Math.round(range(0.1, 1) * 100) / 100 })
                events.push(e)
                break
            }
            case "hems":
                if (r() < 0.6) events.push({ at_s: at, hems: { mode: "setpoint", setpoint_w: Math.round(range(-5000, 5000)) } })
                else events.push({ at_s: at, hems: { mode: pick(["idle", "self_consumption", "pv_surplus"]) } })
                break
            case "house":
                events.push({ at_s: at, house_w: Math.round(range(0, 6000)) })
                break
            case "pv":
                events.push({ at_s: at, pv_w: Math.round(range(0, 4000)) })
                break
            case "grid": {
                const back = Math.min(CHAOS_S, Math.round((at + range(0.5, 20)) * 100) / 100)
                const g = pick(["down", "down", "v", "hz"])
                if (g === "down") events.push({ at_s: at, grid: "down" })
                else if (g === "v") events.push({ at_s: at, grid: "up", grid_v: Math.round(pick([range(30, 60), range(80, 90), range(110, 130)])) })
                else events.push({ at_s: at, grid: "up", grid_hz: Math.round(pick([range(55, 57), range(58, 59.4), range(61, 63)]) * 10) / 10 })
                events.push({ at_s: back, grid: "up", grid_v: 100, grid_hz: 60 })
                break
            }
            case "sensor":
            case "weld": {
                const f = pick(kind === "sensor" ? SENSOR_FAULTS : WELDS)
                events.push({ at_s: at, fault: f })
                if (r() < 0.7) events.push({ at_s: Math.min(CHAOS_S, Math.round((at + range(0.5, 15)) * 100) / 100), clear_fault: f })
                break
            }
            case "estop":
                events.push({ at_s: at, fault: "estop" })
                events.push({ at_s: Math.min(CHAOS_S, Math.round((at + range(0.2, 5)) * 100) / 100), clear_fault: "estop" })
                break
            case "restart":
                events.push({ at_s: at, firmware_restart: true })
                break
            case "temp":
                if (r() < 0.5) events.push({ at_s: at, temp_c: Math.round(range(-10, 45)) })
                else events.push({ at_s: at, inverter_temp_c: Math.round(range(20, 85)) })
                break
        }
    }
    // Recovery: every fault cleared, the grid in band, the local reset, the outlets reset at their
    // switch (off for more than the 5 s reset time), loads within the budget, then a fresh setpoint.
    const rec = RECOVERY_AT_S
    for (const f of [...SENSOR_FAULTS, ...WELDS, "estop"]) events.push({ at_s: rec, clear_fault: f })
    events.push({ at_s: rec, grid: "up", grid_v: 100, grid_hz: 60 })
    events.push({ at_s: rec, temp_c: 25 })
    events.push({ at_s: rec, inverter_temp_c: 30 })
    events.push({ at_s: rec, outlet: 1, load_w: 300 })
    events.push({ at_s: rec, outlet: 2, load_w: 0 })
    events.push({ at_s: rec, house_w: 3000 })
    events.push({ at_s: rec, pv_w: 0 })
    events.push({ at_s: rec + 1, outlet_switch: "off" })
    events.push({ at_s: rec + 2, reset_faults: true })
    events.push({ at_s: rec + 8, outlet_switch: "on" })
    events.push({ at_s: rec + 9, hems: { reserve_pct: 20, charge_limit_pct: 90 } })
    events.push({ at_s: FRESH_SETPOINT_AT_S, hems: { mode: "setpoint", setpoint_w: FRESH_SETPOINT_W } })
    events.sort((a, b) => a.at_s - b.at_s)
    return {
        name: `chaos-seed-${seed}`,
        description: `Chaos test schedule for seed ${seed} (sim/chaos/generate.ts): random faults for ${CHAOS_S} s, then recovery.`,
        duration_s: CHAOS_DURATION_S,
        seed,
        trace_interval_ms: 20,
        // The enter-service delay and ramp shortened so that recovery fits the run (same rules, other numbers).
        config: { grid: { enterService: { delayMs: 8000, rampMs: 4000 } } },
        initial: { soc_pct: Math.round(range(35, 90)), house_w: Math.round(range(200, 4000)), pv_w: Math.round(range(0, 2000)), grid_up: true },
        events,
    }
}
