// A tiny closed loop around OutletProtection for tests: each protection tick the outlets
// deliver their demand if the previous tick's command left them on, the meters report what
// was delivered, and the core decides. No plant dynamics beyond that: the simulator issue
// covers those.
import { DEVS } from "../../src/config/devs.gen.js"
import {
    OutletProtection,
    type ProtectionConfig,
    type ProtectionEvent,
    type ProtectionStatus,
} from "../../src/core/outlet-protection.js"

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] }

export function config(overrides: DeepPartial<ProtectionConfig> = {}): ProtectionConfig {
    return {
        outlets: { ...DEVS.outlets, ...overrides.outlets },
        tripCurve: { ...DEVS.tripCurve, ...overrides.tripCurve },
        socFloor: { ...DEVS.socFloor, ...overrides.socFloor },
    }
}

export const TICK_MS = DEVS.ticks.protectionMs
export const BUDGET_W = DEVS.outlets.budgetPowerW
export const VOLTAGE_V = DEVS.outlets.nominalVoltageV

export interface Sample {
    tMs: number
    delivered: number[] // W actually delivered per outlet during the tick that ended at tMs
    loadRatio: number // ratio of what was delivered
    on: boolean[] // command after the tick
    alarm: boolean
}

export class Loop {
    readonly core: OutletProtection
    nowMs = 0
    /** Appliance demand per outlet, W (current = W / V unless currentA is set). */
    demandW: number[]
    /** Optional explicit demand current per outlet, A (else W / nominal V). */
    demandA: (number | undefined)[]
    switchOn = true
    socPct = 80
    socFresh = true
    /** Per outlet: false freezes the meter (its atMs stops advancing). */
    meterFresh: boolean[]
    meterValue: (number | undefined)[] // forced reading (e.g. NaN) or undefined for delivered
    private meterAtMs: number[]
    private socAtMs = 0
    private lastOn: boolean[]
    readonly events: ProtectionEvent[] = []
    readonly samples: Sample[] = []
    record = false

    constructor(cfg: ProtectionConfig = config()) {
        this.core = new OutletProtection(cfg)
        const n = cfg.outlets.count
        this.demandW = new Array(n).fill(0)
        this.demandA = new Array(n).fill(undefined)
        this.meterFresh = new Array(n).fill(true)
        this.meterValue = new Array(n).fill(undefined)
        this.meterAtMs = new Array(n).fill(0)
        this.lastOn = new Array(n).fill(false)
    }

    /** One protection tick. Returns the status after it. */
    tick(): ProtectionStatus {
        this.nowMs += TICK_MS
        const delivered = this.demandW.map((w, i) => (this.lastOn[i] ? w : 0))
        const deliveredA = this.demandW.map((w, i) => (this.lastOn[i] ? (this.demandA[i] ?? w / VOLTAGE_V) : 0))
        const outlets = delivered.map((w, i) => {
            if (this.meterFresh[i]) this.meterAtMs[i] = this.nowMs
            const forced = this.meterValue[i]
            return { powerW: forced ?? w, currentA: forced ?? deliveredA[i], atMs: this.meterAtMs[i] }
        })
        if (this.socFresh) this.socAtMs = this.nowMs
        const st = this.core.tick({
            nowMs: this.nowMs,
            mainSwitchOn: this.switchOn,
            outlets,
            socPct: this.socPct,
            socAtMs: this.socAtMs,
        })
        this.events.push(...st.events)
        this.lastOn = st.outletOn.slice()
        if (this.record) {
            const p = delivered.reduce((a, b) => a + b, 0)
            const amps = deliveredA.reduce((a, b) => a + b, 0)
            this.samples.push({
                tMs: this.nowMs,
                delivered,
                loadRatio: Math.max(p / BUDGET_W, amps / DEVS.outlets.budgetCurrentA),
                on: this.lastOn,
                alarm: st.alarm,
            })
        }
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

    /** Switch the outlet main switch OFF for offMs, then ON (one tick later the result shows). */
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
}

/** A loop whose outlets are already on and settled (two ticks with no load). */
export function settledLoop(cfg?: ProtectionConfig): Loop {
    const loop = new Loop(cfg)
    loop.run(2 * TICK_MS)
    return loop
}

