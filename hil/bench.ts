// The HIL bench: a library scenario, unchanged, against firmware on the other end of a link (a
// board on USB, the stand-in, a hub). It is the simulator's closed loop (sim/engine.ts: the same
// plant models, servers, event handling, trace sampling) paced to the wall clock, with the
// firmware outside the process. On top of it the bench
//   - starts the firmware like the simulator does: deletes its persisted record (as the
//     simulator's empty flash) and resets it at t = 0 (unless told to keep it running);
//   - pins every role it serves to its own server (hil/roles.ts) and keeps checking: a role that
//     cannot be pinned within PIN_DEADLINE_MS stops the run (exit 2, naming the role and why);
//   - marks link loss in the trace (injected_faults "link_lost"): the firmware sees its sources
//     go stale exactly as on an unplugged cable;
//   - measures how far the plant's paced steps lag the wall clock and says when the lag passed
//     the bound JITTER_BOUND_MS (timing results near such a moment are not trustworthy).
import { DEVICE_RESTART, jdpack, type JDDevice, type JDService } from "jacdac-ts"
import { simulate, type RunContext, type SimRun } from "../sim/engine"
import type { Scenario } from "../sim/scenario/types"
import { controlSurface } from "../sim/control-client"
import { PERSIST_KEY, PERSIST_LOG_KEY } from "../src/core/persist"
import type { BenchLink, LinkHealth } from "./link"
import { SRV_ROLE_MANAGER, baseRoleName, benchRoleTable, boardTargets, checkBindings, listRoles, pinRoles, type PinProblem, type RoleBinding } from "./roles"

/** The plant's device id (sim/servers.ts). */
export const PLANT_DEVICE_ID = "5151a4e0cafe0001"
const SRV_CHARGER_CONTROL = controlSurface().serviceClass
/**
 * The bench's jitter bound: a paced plant step may lag the wall clock by this much. The tightest
 * trip window in the library is 0.1 s (the instant cut, 5.0..5.1 s) and the firmware's protection
 * tick is 20 ms: a 50 ms lag still leaves a correct firmware inside that window, a larger one may
 * not, so a run past the bound says its times are not trustworthy instead of reporting them.
 */
export const JITTER_BOUND_MS = 50
/** Roles must be pinned within this time of t = 0 (the simulator's firmware binds after ~1 s). */
export const PIN_DEADLINE_MS = 6000
const PIN_POLL_MS = 250
const ROLE_CHECK_MS = 1000
const SRV_SETTINGS = 0x1107dc4a
const SETTINGS_CMD_DELETE = 0x84
const SRV_DEVS_MANAGER = 0x1134ea2b
const DEVS_MANAGER_REG_RUNNING = 0x80
/** Tries at stopping the program (each a write and, this long after it, a read-back of `running`). */
const STOP_TRIES = 5
const STOP_READBACK_MS = 50
const CONTROL_CMD_RESET = 0x82

export interface BenchOptions {
    /** Reset the firmware at t = 0 (default true). */
    reset?: boolean
    /** Delete the firmware's persisted record before that reset (default true). */
    clearState?: boolean
    onLog?: (line: string) => void
}

export interface JitterStats {
    bound_ms: number
    max_lag_ms: number
    p99_lag_ms: number
    steps: number
    /** Paced steps whose lag passed the bound. */
    exceeded_steps: number
    /** Scenario times (s) where the lag first passed the bound in each excursion. */
    exceeded_at_s: number[]
    /** The largest lag before the roles were pinned (not judged: the firmware was not running against the plant yet). */
    startup_max_lag_ms: number
}

export interface BenchRun {
    run: SimRun
    /** Set when a role could not be pinned: the run was stopped (exit 2). */
    refused?: PinProblem[]
    firmwareDeviceId?: string
    /** Role bindings once pinned. */
    roles: RoleBinding[]
    /** Seconds after t = 0 at which every role was pinned. */
    pinnedAtS?: number
    /** Times a role had moved and was pinned again. */
    rebinds: { t_s: number; role: string; message: string }[]
    firmwareRestarts: number[]
    /** The start's steps, seconds after t = 0 (undefined: not done, e.g. --keep-state or --no-reset). */
    start: { record_cleared_at_s?: number; reset_at_s?: number }
    link: LinkHealth & { outages_s: { from_s: number; to_s: number | null }[] }
    jitter: JitterStats
}

export async function runBench(scenario: Scenario, link: BenchLink, opts: BenchOptions = {}): Promise<BenchRun> {
    const lags: number[] = []
    // The bench's timing matters once the firmware runs against its servers: lag before the roles
    // are pinned (start-up, the firmware's reset) is kept apart.
    let timing = false
    let startupMaxLagMs = 0
    const exceededAt: number[] = []
    let inExcursion = false
    let wallAtZero = 0
    const result: Omit<BenchRun, "run" | "link" | "jitter"> = { roles: [], rebinds: [], firmwareRestarts: [], start: {} }
    let ctx: RunContext | undefined
    const log = opts.onLog ?? (() => {})

    const onStart = (c: RunContext) => {
        ctx = c
        wallAtZero = performance.now()
        const { bus, clock, servers } = c
        const plan = benchRoleTable(servers, PLANT_DEVICE_ID)
        const hostIds = new Set([PLANT_DEVICE_ID, bus.selfDeviceId])
        let firmware: JDDevice | undefined
        let roleManager: JDService | undefined
        let pinned = false
        let busy = false
        let resetSent = opts.reset === false
        const firstCheckAt = new Map<string, number>()

        const findFirmware = () => {
            const rm = bus.services({ serviceClass: SRV_ROLE_MANAGER }).find(s => !hostIds.has(s.device.deviceId))
            const cc = bus.services({ serviceClass: SRV_CHARGER_CONTROL }).find(s => !hostIds.has(s.device.deviceId))
            // The program's own servers (ChargerControl) sit on a second device id of the board (DeviceScript's server device).
            if (rm && cc) {
                firmware = rm.device
                roleManager = rm
                result.firmwareDeviceId = firmware.deviceId
            }
        }
        bus.on(DEVICE_RESTART, (d: JDDevice) => {
            if (d !== firmware) return
            result.firmwareRestarts.push(clock.now / 1000)
            // The board's outputs drop on a restart; the bench's servers stand for them.
            servers.outputsToRestartState()
            log(`firmware restarted at ${(clock.now / 1000).toFixed(2)} s`)
        })

        const step = async () => {
            if (busy) return
            busy = true
            try {
                if (!roleManager) findFirmware()
                if (!roleManager || !firmware) {
                    if (!pinned && clock.now >= PIN_DEADLINE_MS)
                        c.abort(
                            `no firmware on ${link.description} within ${PIN_DEADLINE_MS / 1000} s (no device with both a RoleManager and a ChargerControl service)`,
                        )
                    return
                }
                if (!resetSent) {
                    resetSent = true
                    if (opts.clearState !== false) {
                        const problem = await clearPersistedRecord(firmware, clock)
                        if (problem) return c.abort(`cannot start from an empty record: ${problem}`)
                        result.start.record_cleared_at_s = clock.now / 1000
                        log("firmware program stopped, persisted record deleted")
                    }
                    await firmware.service(0).sendCmdAsync(CONTROL_CMD_RESET, undefined, false)
                    result.start.reset_at_s = clock.now / 1000
                    // Until here the trace showed no firmware status: the program answering was the previous run's.
                    c.firmwareStarting()
                    roleManager = undefined
                    firmware = undefined
                    log("firmware reset at t = 0")
                    return
                }
                if (!link.up()) return
                const roles = await listRoles(bus, roleManager)
                const services = bus.services().map(s => ({ deviceId: s.device.deviceId, serviceIndex: s.serviceIndex, serviceClass: s.serviceClass }))
                const board = boardTargets(roles, services, plan, hostIds)
                const fullPlan = new Map([...plan, ...board.targets])
                const problems = checkBindings(roles, fullPlan, hostIds)
                for (const amb of board.ambiguous) {
                    const i = problems.findIndex(p => p.role === amb.role)
                    if (i >= 0) problems[i] = amb
                }
                // A role list that lacks a role the bench serves (empty while the firmware is still
                // starting, or a list read cut short) proves nothing: not pinned yet.
                const unlisted = [...plan.keys()].filter(name => !roles.some(r => baseRoleName(r.role) === name))
                if (!problems.length && !unlisted.length) {
                    if (!pinned) {
                        pinned = true
                        result.pinnedAtS = clock.now / 1000
                        timing = true
                        result.roles = roles
                        log(`roles pinned at ${result.pinnedAtS.toFixed(2)} s`)
                    }
                    return
                }
                // Roles the bench serves that sit elsewhere: pin them (again).
                const movable = problems.filter(p => fullPlan.has(baseRoleName(p.role)))
                if (pinned)
                    for (const p of problems) {
                        result.rebinds.push({ t_s: clock.now / 1000, role: p.role, message: p.message })
                        log(`role ${p.role} ${p.message}: pinning it again`)
                    }
                if (movable.length) await pinRoles(roleManager, roles, fullPlan)
                for (const p of problems) if (!firstCheckAt.has(p.role)) firstCheckAt.set(p.role, clock.now)
                if (!pinned && !problems.length && clock.now >= PIN_DEADLINE_MS) c.abort(`roles not listed by the firmware within ${PIN_DEADLINE_MS / 1000} s: ${unlisted.join(", ")}`)
                if (!pinned && problems.length && clock.now >= PIN_DEADLINE_MS) {
                    result.refused = problems
                    c.abort(`roles not pinned within ${PIN_DEADLINE_MS / 1000} s`)
                }
            } catch (err: any) {
                // A pipe that timed out (the board was busy or restarting): next round.
                log(`role check: ${err.message}`)
                if (!pinned && clock.now >= PIN_DEADLINE_MS) c.abort(`roles not pinned within ${PIN_DEADLINE_MS / 1000} s: ${err.message}`)
            } finally {
                busy = false
            }
        }
        clock.setInterval(() => void step(), PIN_POLL_MS)
        let sinceCheck = 0
        clock.setInterval(() => {
            c.setInjected("link_lost", !link.up())
            if (pinned && (sinceCheck += 100) >= ROLE_CHECK_MS) {
                sinceCheck = 0
                void step()
            }
        }, 100)
    }

    const onPace = (lagMs: number, nowMs: number) => {
        if (!timing) {
            startupMaxLagMs = Math.max(startupMaxLagMs, lagMs)
            return
        }
        lags.push(lagMs)
        const over = lagMs > JITTER_BOUND_MS
        if (over && !inExcursion) exceededAt.push(nowMs / 1000)
        inExcursion = over
    }

    const run = await simulate(scenario, {
        connect: async bus => link.attach(bus),
        onStart,
        onPace,
        holdFirmware: opts.reset !== false,
        restartFirmware: async () => {
            const fw = ctx?.bus.devices().find(d => d.deviceId === result.firmwareDeviceId)
            if (fw) await fw.service(0).sendCmdAsync(CONTROL_CMD_RESET, undefined, false)
        },
    })
    const sorted = [...lags].sort((a, b) => a - b)
    const h = link.health()
    const rel = (ms: number) => Math.round(ms - wallAtZero) / 1000
    return {
        ...result,
        run,
        link: { ...h, outages_s: h.outages.map(o => ({ from_s: rel(o.fromMs), to_s: o.toMs === undefined ? null : rel(o.toMs) })) },
        jitter: {
            bound_ms: JITTER_BOUND_MS,
            max_lag_ms: round1(sorted[sorted.length - 1] ?? 0),
            p99_lag_ms: round1(sorted[Math.floor(sorted.length * 0.99)] ?? 0),
            steps: lags.length,
            exceeded_steps: lags.filter(l => l > JITTER_BOUND_MS).length,
            exceeded_at_s: exceededAt,
            startup_max_lag_ms: round1(startupMaxLagMs),
        },
    }
}

const round1 = (x: number) => Math.round(x * 10) / 10

/**
 * Deletes the firmware's persisted record (both settings: the fault log has its own, persist.ts
 * splitForFlash) so that the reset after it boots from an empty record, as the simulator's empty
 * flash. The program is stopped first (DeviceScript manager `running` = false, read back) because
 * a running program writes its record whenever it changes: the previous scenario's program, its
 * plant gone, keeps latching faults, and a write landing between a delete and the reset would
 * carry a latched trip into the next run. Each delete is acknowledged. The reset restarts the program
 * (autostart). Returns what went wrong, or undefined.
 */
async function clearPersistedRecord(firmware: JDDevice, clock: RunContext["clock"]): Promise<string | undefined> {
    const manager = firmware.services({ serviceClass: SRV_DEVS_MANAGER })[0]
    const settings = firmware.services({ serviceClass: SRV_SETTINGS })[0]
    if (!manager) return `device ${firmware.deviceId} has no DeviceScript manager service (0x${SRV_DEVS_MANAGER.toString(16)}) to stop its program`
    if (!settings) return `device ${firmware.deviceId} has no settings service (0x${SRV_SETTINGS.toString(16)})`
    const running = manager.register(DEVS_MANAGER_REG_RUNNING)
    let stopped = false
    for (let i = 0; i < STOP_TRIES && !stopped; i++) {
        await running.sendSetBoolAsync(false)
        await new Promise(r => clock.setTimeout(r, STOP_READBACK_MS))
        stopped = (await running.refresh()) && running.data !== undefined && !running.boolValue
    }
    if (!stopped) return `the program on ${firmware.deviceId} did not stop (its DeviceScript manager still reads running after ${STOP_TRIES} tries)`
    for (const key of [PERSIST_KEY, PERSIST_LOG_KEY]) {
        try {
            await settings.sendCmdAsync(SETTINGS_CMD_DELETE, jdpack("s", [key]), true)
        } catch (err: any) {
            return `the delete of setting ${JSON.stringify(key)} on ${firmware.deviceId} was not acknowledged (${err.message})`
        }
    }
    return undefined
}
