// What survives a restart: the user's settings (SoC floor, outlet priority, V2H reserve and
// charge limit), latched outlet trips and the latched V2H fault (a restart must not clear what
// only a reset may clear), the fault log and energy counters. One JSON record in flash
// (@devicescript/settings, key PERSIST_KEY), written by the shell when PersistScheduler says so.
//
// A stored record is checked field by field against the same bounds as a HEMS command
// (hems/command.ts) and the cores' own rules: a bad value is reported and replaced by the
// default, never used. Pure; DeviceScript subset.
import type { DevsConfig } from "../config/devs.gen"
import { validateCommand, showValue } from "./hems/command"
import { isFiniteNumber } from "./common/num"
import type { Controller } from "./controller"
import { FAULT_CODES, FaultCode, FaultLogEntry, isLatching } from "./v2h/faults"
import { OUTLET_REASONS } from "./outlets/io"

/** Settings key (at most 13 characters). */
export const PERSIST_KEY = "charger"
/** The fault log has its own key: one setting must fit one Jacdac packet (see SETTING_MAX_BYTES). */
export const PERSIST_LOG_KEY = "faultlog"
export const PERSIST_VERSION = 1
/**
 * The largest JSON text one setting may hold. The VM's settings service answers a read in one
 * Jacdac packet (236 bytes of payload, the key included); a longer value made the read at boot
 * panic the VM ("empty packet", jd_queue_push) once the fault log had grown: a restart loop.
 * 236 less the longest key with its terminator ("faultlog\0", 9) leaves 227; 224 keeps a margin.
 */
export const SETTING_MAX_BYTES = 224

/**
 * The record as two flash settings: the record without its log, and the log as compact
 * [fault code, ms, boot] triples. Both stay under SETTING_MAX_BYTES (tests/unit/persist.test.ts).
 */
export function splitForFlash(p: Persisted): { record: any; log: number[][] } {
    const log: number[][] = []
    for (const e of p.log) log.push([FAULT_CODES.indexOf(e.fault as FaultCode), Math.round(e.ms / 1000), e.boot])
    const wh: number[] = []
    for (const w of p.wh) wh.push(Math.round(w * 10) / 10)
    return {
        record: {
            v: p.v,
            boot: p.boot,
            soc_floor_pct: p.soc_floor_pct,
            outlet_priority: p.outlet_priority,
            reserve_pct: p.reserve_pct,
            charge_limit_pct: p.charge_limit_pct,
            latched: p.latched,
            fault: p.fault,
            wh: wh,
        },
        log: log,
    }
}

/**
 * The stored record put back together (before validatePersisted): the log from its own key; a
 * record still holding its log (older layout) keeps it. Anything malformed is left for the
 * validation to report.
 */
export function joinFromFlash(record: any, log: any): any {
    if (record === undefined || record === null || typeof record !== "object" || Array.isArray(record)) return record
    if (!Array.isArray(log)) return record
    const entries: any[] = []
    for (const e of log) {
        if (Array.isArray(e) && e.length === 3) entries.push({ fault: FAULT_CODES[e[0]], ms: e[1] * 1000, boot: e[2] })
        else entries.push(e)
    }
    const out: any = {}
    for (const k of Object.keys(record)) out[k] = record[k]
    out.log = entries
    return out
}

export interface PersistedFault {
    fault: string
    /** Uptime of that boot when it happened, ms. */
    ms: number
    boot: number
}

export interface Persisted {
    v: number
    /** Boot counter: incremented at every start. */
    boot: number
    soc_floor_pct: number
    outlet_priority: number
    reserve_pct: number
    charge_limit_pct: number
    /** Latched trip per outlet ("none" when not latched). */
    latched: string[]
    /** Latched V2H fault ("none"). */
    fault: string
    log: PersistedFault[]
    /** Energy counters, Wh: V2H discharge, V2H charge, accessory outlets. */
    wh: number[]
}

export type PersistConfig = Pick<DevsConfig, "v2h" | "socFloor" | "outlets" | "hems" | "persist">

/** The record of a first boot (every value its devs.json default). */
export function defaultPersisted(cfg: PersistConfig): Persisted {
    const latched: string[] = []
    for (let i = 0; i < cfg.outlets.count; i++) latched.push("none")
    return {
        v: PERSIST_VERSION,
        boot: 0,
        soc_floor_pct: cfg.socFloor.defaultPct,
        outlet_priority: cfg.outlets.highPriorityOutlet,
        reserve_pct: cfg.v2h.reserve.defaultPct,
        charge_limit_pct: cfg.v2h.chargeLimit.defaultPct,
        latched: latched,
        fault: "none",
        log: [],
        wh: [0, 0, 0],
    }
}

const SETTING_KEYS = ["soc_floor_pct", "outlet_priority", "reserve_pct", "charge_limit_pct"]

/**
 * Checks a stored record (anything JSON.parse gave, or undefined when nothing was stored).
 * Returns the record to use and one message per replaced value ("stored reserve_pct = 95: out of
 * range 10..90 %; default 30 used").
 */
export function validatePersisted(raw: any, cfg: PersistConfig): { value: Persisted; problems: string[] } {
    const d = defaultPersisted(cfg)
    const problems: string[] = []
    if (raw === undefined || raw === null) return { value: d, problems: problems }
    if (typeof raw !== "object" || Array.isArray(raw)) {
        problems.push("stored record = " + showValue(raw) + ": not an object; defaults used")
        return { value: d, problems: problems }
    }
    if (raw.v !== PERSIST_VERSION) {
        problems.push("stored record version " + showValue(raw.v) + ": expected " + PERSIST_VERSION + "; defaults used")
        return { value: d, problems: problems }
    }
    const out = defaultPersisted(cfg)
    if (isFiniteNumber(raw.boot) && raw.boot >= 0 && Math.round(raw.boot) === raw.boot) out.boot = raw.boot
    else problems.push("stored boot = " + showValue(raw.boot) + ": not a count; 0 used")
    const o: any = out
    for (const k of SETTING_KEYS) {
        const one: any = {}
        one[k] = raw[k]
        // validateCommand skips an absent key: a record without one must not pass as valid.
        const e = raw[k] === undefined ? k + " = undefined: missing" : validateCommand(one, cfg).error
        if (e) problems.push("stored " + e + "; default " + o[k] + " used")
        else o[k] = raw[k]
    }
    if (!(out.reserve_pct < out.charge_limit_pct)) {
        problems.push(
            "stored reserve_pct = " + out.reserve_pct + " is not below charge_limit_pct = " + out.charge_limit_pct +
                "; defaults " + d.reserve_pct + " and " + d.charge_limit_pct + " used",
        )
        out.reserve_pct = d.reserve_pct
        out.charge_limit_pct = d.charge_limit_pct
    }
    // Outlet by outlet: one unreadable entry must not cost the other outlets their latched trips.
    if (Array.isArray(raw.latched) && raw.latched.length === cfg.outlets.count)
        for (let i = 0; i < raw.latched.length; i++) {
            const r = raw.latched[i]
            if (r === "none" || ((r === "shed" || (typeof r === "string" && r.indexOf("overload_") === 0)) && OUTLET_REASONS.indexOf(r) >= 0)) out.latched[i] = r
            else problems.push("stored latched[" + i + "] = " + showValue(r) + ": not a trip reason; outlet " + (i + 1) + " not restored")
        }
    else problems.push("stored latched = " + showValue(raw.latched) + ": not " + cfg.outlets.count + " trip reasons; none restored")
    if (raw.fault === "none" || (typeof raw.fault === "string" && isLatching(raw.fault))) out.fault = raw.fault
    else problems.push("stored fault = " + showValue(raw.fault) + ": not a latched fault; none restored")
    if (Array.isArray(raw.log)) {
        for (const e of raw.log)
            if (e && typeof e.fault === "string" && e.fault !== "none" && FAULT_CODES.indexOf(e.fault) >= 0 && isFiniteNumber(e.ms) && isFiniteNumber(e.boot))
                out.log.push({ fault: e.fault, ms: e.ms, boot: e.boot })
        if (out.log.length !== raw.log.length) problems.push("stored log: " + (raw.log.length - out.log.length) + " bad entries dropped")
        while (out.log.length > cfg.persist.faultLogEntries) out.log.shift()
    } else problems.push("stored log = " + showValue(raw.log) + ": not a list; emptied")
    let whOk = Array.isArray(raw.wh) && raw.wh.length === 3
    if (whOk) for (const w of raw.wh) if (!isFiniteNumber(w) || w < 0) whOk = false
    if (whOk) out.wh = raw.wh
    else problems.push("stored wh = " + showValue(raw.wh) + ": not 3 counters >= 0; reset to 0")
    return { value: out, problems: problems }
}

/**
 * Applies a validated record to a fresh controller, before its first tick. Returns problems the
 * cores refused (should be none after validatePersisted).
 */
export function restore(c: Controller, p: Persisted, nowMs: number): string[] {
    const problems: string[] = []
    const e = c.commandObject(
        { soc_floor_pct: p.soc_floor_pct, outlet_priority: p.outlet_priority, reserve_pct: p.reserve_pct, charge_limit_pct: p.charge_limit_pct },
        nowMs,
    )
    if (e) problems.push("stored settings: " + e)
    const l = c.protection.restoreLatched(p.latched)
    if (l) problems.push("stored latches: " + l)
    const f = c.v2h.restoreFault(p.fault, nowMs)
    if (f) problems.push("stored fault: " + f)
    c.v2h.faults.bootCount = p.boot + 1
    const log: FaultLogEntry[] = []
    for (const e of p.log) log.push({ atMs: e.ms, fault: e.fault as FaultCode, boot: e.boot })
    c.v2h.restoreLog(log)
    return problems
}

/** Integrates energy flows (Wh): V2H discharge, V2H charge, outlets. */
export class EnergyCounter {
    readonly wh: number[] = [0, 0, 0]
    private lastMs = -1

    constructor(initial: number[]) {
        for (let i = 0; i < 3; i++) this.wh[i] = initial[i]
    }

    add(nowMs: number, inverterW: number, outletsW: number) {
        const dtH = this.lastMs < 0 ? 0 : (nowMs - this.lastMs) / 3600000
        this.lastMs = nowMs
        if (!(dtH > 0)) return
        if (isFiniteNumber(inverterW)) {
            if (inverterW > 0) this.wh[0] += inverterW * dtH
            else this.wh[1] -= inverterW * dtH
        }
        if (isFiniteNumber(outletsW) && outletsW > 0) this.wh[2] += outletsW * dtH
    }
}

/**
 * When to write the record: latches and faults at once (a restart must find them), settings at
 * most every persist.minWriteIntervalMs, energy counters alone at most every
 * persist.energyWriteIntervalMs (flash wear).
 */
export class PersistScheduler {
    private safety = ""
    private settings = ""
    private energy = ""
    private lastWriteMs = -1e12
    private lastEnergyWriteMs: number

    constructor(private readonly cfg: PersistConfig, written: Persisted, nowMs: number) {
        this.note(written)
        this.lastEnergyWriteMs = nowMs
    }

    private parts(p: Persisted): string[] {
        return [
            JSON.stringify([p.latched, p.fault, p.log]),
            JSON.stringify([p.soc_floor_pct, p.outlet_priority, p.reserve_pct, p.charge_limit_pct, p.boot]),
            JSON.stringify(p.wh.map(w => Math.floor(w))),
        ]
    }

    private note(p: Persisted) {
        const s = this.parts(p)
        this.safety = s[0]
        this.settings = s[1]
        this.energy = s[2]
    }

    /** True when p should be written now; the caller then writes it and calls written(). */
    due(p: Persisted, nowMs: number): boolean {
        const s = this.parts(p)
        if (s[0] !== this.safety) return true
        if (s[1] !== this.settings && nowMs - this.lastWriteMs >= this.cfg.persist.minWriteIntervalMs) return true
        if (s[2] !== this.energy && nowMs - this.lastEnergyWriteMs >= this.cfg.persist.energyWriteIntervalMs) return true
        return false
    }

    written(p: Persisted, nowMs: number) {
        this.note(p)
        this.lastWriteMs = nowMs
        this.lastEnergyWriteMs = nowMs
    }
}

/** The record for the controller's current state (boot number and fault log from the supervisor). */
export function capture(c: Controller, wh: number[]): Persisted {
    const p = c.protection.status
    const v = c.v2h.status
    const latched: string[] = p.latched.slice(0)
    const log: PersistedFault[] = []
    for (const e of c.v2h.faultLog) log.push({ fault: e.fault, ms: e.atMs, boot: e.boot })
    return {
        v: PERSIST_VERSION,
        boot: c.v2h.faults.bootCount,
        soc_floor_pct: p.socFloorPct,
        outlet_priority: p.highPriorityOutlet,
        reserve_pct: v.reservePct,
        charge_limit_pct: v.chargeLimitPct,
        latched: latched,
        fault: c.v2h.latchedFault(),
        log: log,
        wh: [wh[0], wh[1], wh[2]],
    }
}
