// A small closed loop around the V2H supervisor for tests: an ideal plant whose inverter output
// equals the last command while the DC contactor is closed (and the grid relay closed on a live
// grid, or islanding allowed), contacts that follow their commands after one tick unless welded,
// a house, PV and a grid meter. Plant dynamics live in the simulator (sim/plant); this harness
// checks the supervisor's decisions. Written in the DeviceScript subset so the same harness
// drives the core in vitest on Node and inside the DeviceScript VM (tests/vm).
import { DEVS } from "../../src/config/devs.gen"
import { V2hSupervisor } from "../../src/core/v2h/supervisor"
import { V2hConfig, V2hInput, V2hStatus } from "../../src/core/v2h/io"
import { HemsCommand, validateCommand } from "../../src/core/hems/command"

export const V2H_TICK_MS = DEVS.ticks.v2hMs

/** devs.json with parts of `v2h` and `grid` replaced (one level deep, e.g. { v2h: { backup: {...} } }). */
export function v2hConfig(v2h?: any, grid?: any): V2hConfig {
    const v: any = Object.assign({}, DEVS.v2h)
    const g: any = Object.assign({}, DEVS.grid)
    if (v2h) for (const k of Object.keys(v2h)) v[k] = v2h[k]
    if (grid) for (const k of Object.keys(grid)) g[k] = grid[k]
    return { v2h: v, grid: g, socFloor: DEVS.socFloor, outlets: DEVS.outlets, persist: DEVS.persist }
}

export class V2hLoop {
    readonly sup: V2hSupervisor
    readonly cfg: V2hConfig
    nowMs = 0
    // Plant
    socPct = 70
    batteryVoltageV = 360
    maxDischargeCurrentA = 100
    maxChargeCurrentA = 100
    houseW = 4000
    pvW = 0
    gridUp = true
    gridVoltageV = DEVS.grid.nominalVoltageV
    gridFrequencyHz = DEVS.grid.nominalFrequencyHz
    inverterTempC = 30
    inverterW = 0
    contactorClosed = false
    gridRelayClosed = false
    contactorWelded = false
    contactorStuckOpen = false
    gridRelayWelded = false
    gridRelayStuckOpen = false
    /** When a number: the inverter delivers this whatever it is told (a runaway inverter). */
    inverterStuckW: number = NaN
    estop = false
    outletsW = 0
    outletOn: boolean[] = [true, true]
    outletW: number[] = [0, 0]
    // Sources that stop reporting (stale)
    batterySilent = false
    inverterSilent = false
    gridSilent = false
    private batteryAtMs = 0
    private inverterAtMs = 0
    private gridAtMs = 0
    readonly input: V2hInput

    constructor(cfg?: V2hConfig) {
        this.cfg = cfg || v2hConfig()
        this.sup = new V2hSupervisor(this.cfg)
        this.input = {
            nowMs: 0,
            estop: false,
            socPct: 0,
            batteryVoltageV: 0,
            maxDischargeCurrentA: 0,
            maxChargeCurrentA: 0,
            batteryAtMs: 0,
            inverterW: 0,
            inverterTempC: 0,
            contactorClosed: false,
            gridRelayClosed: false,
            inverterAtMs: 0,
            gridW: 0,
            gridVoltageV: 0,
            gridFrequencyHz: 0,
            gridAtMs: 0,
            outletsW: 0,
            outletOn: this.outletOn,
            outletW: this.outletW,
        }
    }

    /** Grid import (+) as the meter sees it. */
    gridW(): number {
        return this.gridUp && this.gridRelayClosed ? this.houseW - this.pvW - this.inverterW : 0
    }

    /** What the islanded house cannot get. */
    unservedW(): number {
        if (this.gridUp && this.gridRelayClosed) return 0
        const net = this.houseW - this.pvW - this.inverterW
        return net > 0 ? net : 0
    }

    /** Sends a command object through the one validator; returns "" or the rejection. */
    command(obj: any): string {
        const r = validateCommand(obj, { v2h: this.cfg.v2h, socFloor: DEVS.socFloor, outlets: DEVS.outlets, hems: DEVS.hems })
        if (r.error) return r.error
        return this.apply(r.command)
    }

    apply(c: HemsCommand): string {
        const e = this.sup.checkCommand(c)
        if (e) return e
        this.sup.applyCommand(c, this.nowMs)
        return ""
    }

    /** One supervisor tick (V2H_TICK_MS later): plant follows the previous commands, then the core decides. */
    tick(): V2hStatus {
        this.nowMs += V2H_TICK_MS
        const st = this.sup.status
        // Plant responds to the previous tick's commands.
        this.contactorClosed = this.contactorWelded || (st.contactorCmd && !this.contactorStuckOpen)
        this.gridRelayClosed = this.gridRelayWelded || (st.gridRelayCmd && !this.gridRelayStuckOpen)
        const gridTied = this.gridRelayClosed && this.gridUp
        let p = 0
        if (this.contactorClosed) {
            if (gridTied) p = st.commandW
            else if (st.islandCmd) {
                const demand = this.houseW - this.pvW
                p = demand < st.commandW ? demand : st.commandW
                if (p < 0) p = 0
            }
        }
        const allowW = this.maxDischargeCurrentA * this.batteryVoltageV
        if (p > allowW) p = allowW
        if (this.inverterStuckW === this.inverterStuckW) p = this.inverterStuckW
        this.inverterW = p
        if (!this.batterySilent) this.batteryAtMs = this.nowMs
        if (!this.inverterSilent) this.inverterAtMs = this.nowMs
        if (!this.gridSilent) this.gridAtMs = this.nowMs
        const i = this.input
        i.nowMs = this.nowMs
        i.estop = this.estop
        i.socPct = this.socPct
        i.batteryVoltageV = this.batteryVoltageV
        i.maxDischargeCurrentA = this.maxDischargeCurrentA
        i.maxChargeCurrentA = this.maxChargeCurrentA
        i.batteryAtMs = this.batteryAtMs
        i.inverterW = this.inverterW
        i.inverterTempC = this.inverterTempC
        i.contactorClosed = this.contactorClosed
        i.gridRelayClosed = this.gridRelayClosed
        i.inverterAtMs = this.inverterAtMs
        i.gridW = this.gridW()
        i.gridVoltageV = this.gridUp ? this.gridVoltageV : 0
        i.gridFrequencyHz = this.gridUp ? this.gridFrequencyHz : 0
        i.gridAtMs = this.gridAtMs
        i.outletsW = this.outletsW
        return this.sup.tick(i)
    }

    /** Runs for ms (whole ticks). */
    run(ms: number): V2hStatus {
        const end = this.nowMs + ms
        let st = this.sup.status
        while (this.nowMs < end) st = this.tick()
        return st
    }

    /** Ticks until pred holds (returns ms waited) or maxMs passes (returns -1). */
    until(pred: (st: V2hStatus) => boolean, maxMs: number): number {
        const start = this.nowMs
        while (this.nowMs - start < maxMs) {
            if (pred(this.tick())) return this.nowMs - start
        }
        return -1
    }
}

/** A loop past boot: grid seen, contacts settled, readings fresh. */
export function bootedLoop(cfg?: V2hConfig): V2hLoop {
    const loop = new V2hLoop(cfg)
    loop.run(1000)
    return loop
}
