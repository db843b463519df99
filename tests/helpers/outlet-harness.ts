// A tiny closed loop around OutletProtection for tests: each protection tick the outlets
// deliver their demand if the previous tick's command left them on, the meters report what
// was delivered, and the core decides. No plant dynamics beyond that: the simulator issue
// covers those. Written in the DeviceScript subset so that the same harness drives the core
// in vitest on Node and in the DeviceScript VM (tests/vm).
import { DEVS } from "../../src/config/devs.gen"
import { OutletProtection } from "../../src/core/outlets/protection"
import { ProtectionConfig, ProtectionEvent, ProtectionStatus } from "../../src/core/outlets/io"

export interface ConfigOverrides {
    outlets?: any
    tripCurve?: any
    socFloor?: any
}

/** devs.json defaults with some values replaced. */
export function config(overrides?: ConfigOverrides): ProtectionConfig {
    const o = overrides || {}
    return {
        outlets: Object.assign(Object.assign({}, DEVS.outlets), o.outlets || {}),
        tripCurve: Object.assign(Object.assign({}, DEVS.tripCurve), o.tripCurve || {}),
        socFloor: Object.assign(Object.assign({}, DEVS.socFloor), o.socFloor || {}),
    }
}

export const TICK_MS = DEVS.ticks.protectionMs
export const BUDGET_W = DEVS.outlets.budgetPowerW
export const BUDGET_A = DEVS.outlets.budgetCurrentA
export const VOLTAGE_V = DEVS.outlets.nominalVoltageV

export interface Sample {
    tMs: number
    /** W actually delivered per outlet during the tick that ended at tMs. */
    delivered: number[]
    /** Load ratio of what was delivered. */
    loadRatio: number
    /** Relay command per outlet after the tick. */
    on: boolean[]
    alarm: boolean
}

function filled<T>(n: number, v: T): T[] {
    const a: T[] = []
    for (let i = 0; i < n; i++) a.push(v)
    return a
}

export class Loop {
    readonly core: OutletProtection
    nowMs = 0
    /** Appliance demand per outlet, W. */
    demandW: number[]
    /** Demand current per outlet, A; a negative value means W / nominal V. */
    demandA: number[]
    switchOn = true
    socPct = 80
    socFresh = true
    /** Per outlet: false freezes the meter (its reading time stops advancing). */
    meterFresh: boolean[]
    /** Per outlet: report this value for W and A instead of the delivered load (e.g. NaN). */
    meterForced: boolean[]
    meterForcedValue = 0
    readonly events: ProtectionEvent[] = []
    readonly samples: Sample[] = []
    record = false
    private meterAtMs: number[]
    private socAtMs = 0
    private lastOn: boolean[]

    constructor(cfg?: ProtectionConfig) {
        const c = cfg || config()
        this.core = new OutletProtection(c)
        const n = c.outlets.count
        this.demandW = filled(n, 0)
        this.demandA = filled(n, -1)
        this.meterFresh = filled(n, true)
        this.meterForced = filled(n, false)
        this.meterAtMs = filled(n, 0)
        this.lastOn = filled(n, false)
    }

    /** One protection tick. Returns the status after it. */
    tick(): ProtectionStatus {
        this.nowMs += TICK_MS
        const n = this.demandW.length
        const delivered: number[] = []
        const outlets = []
        let sumW = 0
        let sumA = 0
        for (let i = 0; i < n; i++) {
            const on = this.lastOn[i]
            const w = on ? this.demandW[i] : 0
            const a = on ? (this.demandA[i] >= 0 ? this.demandA[i] : this.demandW[i] / VOLTAGE_V) : 0
            delivered.push(w)
            sumW += w
            sumA += a
            if (this.meterFresh[i]) this.meterAtMs[i] = this.nowMs
            const forced = this.meterForced[i]
            outlets.push({
                powerW: forced ? this.meterForcedValue : w,
                currentA: forced ? this.meterForcedValue : a,
                atMs: this.meterAtMs[i],
            })
        }
        if (this.socFresh) this.socAtMs = this.nowMs
        const st = this.core.tick({
            nowMs: this.nowMs,
            mainSwitchOn: this.switchOn,
            outlets: outlets,
            socPct: this.socPct,
            socAtMs: this.socAtMs,
        })
        for (let k = 0; k < st.events.length; k++) this.events.push(st.events[k])
        this.lastOn = st.outletOn.slice(0)
        if (this.record)
            this.samples.push({
                tMs: this.nowMs,
                delivered: delivered,
                loadRatio: Math.max(sumW / BUDGET_W, sumA / BUDGET_A),
                on: this.lastOn,
                alarm: st.alarm,
            })
        return st
    }

    run(ms: number): ProtectionStatus {
        let st = this.core.status
        const end = this.nowMs + ms
        while (this.nowMs < end) st = this.tick()
        return st
    }

    /** Ticks until pred holds; returns the time (ms since this call) or -1 after maxMs. */
    runUntil(pred: (st: ProtectionStatus) => boolean, maxMs: number): number {
        const start = this.nowMs
        while (this.nowMs - start < maxMs) {
            const st = this.tick()
            if (pred(st)) return this.nowMs - start
        }
        return -1
    }

    /** Runs until outlet (1-based) is cut; returns how long its load was delivered, ms, or -1. */
    msUntilCut(outlet: number, maxMs: number): number {
        return this.runUntil(st => !st.outletOn[outlet - 1], maxMs)
    }

    /** Switches the outlet main switch OFF for offMs, then ON, and runs the tick that sees ON. */
    cycleSwitch(offMs: number): ProtectionStatus {
        this.switchOn = false
        this.run(offMs)
        this.switchOn = true
        return this.tick()
    }

    outletOn(outlet: number): boolean {
        return this.core.status.outletOn[outlet - 1]
    }

    reason(outlet: number): string {
        return this.core.status.reason[outlet - 1]
    }

    tripReasons(): string[] {
        const out: string[] = []
        for (let k = 0; k < this.events.length; k++)
            if (this.events[k].kind === "trip") out.push(this.events[k].outlet + ":" + this.events[k].reason)
        return out
    }
}

/** A loop whose outlets are already on and settled (two ticks with no load). */
export function settledLoop(cfg?: ProtectionConfig): Loop {
    const loop = new Loop(cfg)
    loop.run(2 * TICK_MS)
    return loop
}
