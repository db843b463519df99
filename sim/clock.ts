// Virtual time for a simulation: one clock drives the DeviceScript VM (through injected time
// functions), the jacdac-ts bus (through its Scheduler) and the plant, without touching Node's
// global timers. Timers run in (time, creation) order; after each one the microtasks it queued
// (frames crossing the bridge, promise chains in jacdac-ts) run before the next timer, so
// virtual time only moves when everything due has settled.
//
// Settling costs MICROTASK_GENERATIONS awaits per timer, and most timers queue nothing: the VM's
// scheduler steps that send no frame, plant steps that report nothing. A timer created as
// "quiet" declares that it can only start asynchronous work by sending a frame, and whatever
// sends frames calls noteAsyncWork() (the bus for its frames, the VM bridge for the VM's); a
// quiet timer that noted nothing is not settled. The order of everything that runs is unchanged.
import type { VmTimers } from "./vm/devs-vm"

interface Timer {
    id: number
    atMs: number
    seq: number
    fn: (...a: any[]) => void
    args: any[]
    everyMs: number // 0 = one-shot
    quiet: boolean
}

/** Microtask generations run after each timer (promise chains in jacdac-ts are a few deep). */
const MICROTASK_GENERATIONS = 32
/** Yield to Node's event loop (I/O, progress output) every this many timers. */
const YIELD_EVERY_TIMERS = 2000

export class VirtualClock {
    now = 0
    private heap: Timer[] = []
    private live = new Map<number, Timer>()
    private nextId = 1
    private seq = 0
    timersRun = 0
    /** Timers after which the microtasks were settled (the others were quiet and noted nothing). */
    timersSettled = 0
    private asyncNotes = 0

    setTimeout = (fn: (...a: any[]) => void, delayMs = 0, ...args: any[]) => this.add(fn, delayMs, 0, args, false)
    setInterval = (fn: (...a: any[]) => void, everyMs = 0, ...args: any[]) => this.add(fn, everyMs, Math.max(1, everyMs), args, false)
    setImmediate = (fn: (...a: any[]) => void, ...args: any[]) => this.add(fn, 0, 0, args, false)
    /** Like setTimeout, for a callback that starts asynchronous work only by sending frames (see above). */
    setQuietTimeout = (fn: (...a: any[]) => void, delayMs = 0, ...args: any[]) => this.add(fn, delayMs, 0, args, true)
    /** Like setInterval, for a callback that starts asynchronous work only by sending frames (see above). */
    setQuietInterval = (fn: (...a: any[]) => void, everyMs = 0, ...args: any[]) =>
        this.add(fn, everyMs, Math.max(1, everyMs), args, true)
    clearTimeout = (id: any) => {
        this.live.delete(id)
    }
    clearInterval = this.clearTimeout

    /** Something queued microtasks (a frame sent on the bus or by the VM): settle after this timer. */
    noteAsyncWork() {
        this.asyncNotes++
    }

    private add(fn: (...a: any[]) => void, delayMs: number, everyMs: number, args: any[], quiet: boolean): number {
        const d = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0
        const t: Timer = { id: this.nextId++, atMs: this.now + d, seq: this.seq++, fn, args, everyMs, quiet }
        this.live.set(t.id, t)
        this.push(t)
        return t.id
    }

    /** Runs every timer due up to untilMs (inclusive), then sets now = untilMs. */
    async runUntil(untilMs: number) {
        for (;;) {
            const t = this.heap[0]
            if (!t || t.atMs > untilMs) break
            this.pop()
            if (this.live.get(t.id) !== t) continue // cleared
            this.now = Math.max(this.now, t.atMs)
            if (t.everyMs) {
                t.atMs = this.now + t.everyMs
                t.seq = this.seq++
                this.push(t)
            } else this.live.delete(t.id)
            const notes = this.asyncNotes
            t.fn(...t.args)
            if (!t.quiet || this.asyncNotes !== notes) {
                this.timersSettled++
                for (let g = 0; g < MICROTASK_GENERATIONS; g++) await undefined
            }
            if (++this.timersRun % YIELD_EVERY_TIMERS === 0) await new Promise(r => setImmediate(r))
        }
        this.now = Math.max(this.now, untilMs)
    }

    /** Drops every timer. */
    reset() {
        this.heap = []
        this.live.clear()
    }

    private less(a: Timer, b: Timer) {
        return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq)
    }
    private push(t: Timer) {
        const h = this.heap
        h.push(t)
        let i = h.length - 1
        while (i > 0) {
            const p = (i - 1) >> 1
            if (!this.less(h[i], h[p])) break
            ;[h[i], h[p]] = [h[p], h[i]]
            i = p
        }
    }
    private pop(): Timer | undefined {
        const h = this.heap
        const top = h[0]
        const last = h.pop()!
        if (h.length) {
            h[0] = last
            let i = 0
            for (;;) {
                const l = 2 * i + 1
                const r = l + 1
                let m = i
                if (l < h.length && this.less(h[l], h[m])) m = l
                if (r < h.length && this.less(h[r], h[m])) m = r
                if (m === i) break
                ;[h[i], h[m]] = [h[m], h[i]]
                i = m
            }
        }
        return top
    }
}

export type Clock = VirtualClock

export function createClock(): VirtualClock {
    return new VirtualClock()
}

export function vmTimers(clock: VirtualClock): VmTimers {
    // The VM's timers only run its scheduler step, whose only asynchronous effect is frames sent
    // through the bridge (which notes them).
    return {
        setTimeout: clock.setQuietTimeout,
        clearTimeout: clock.clearTimeout,
        setInterval: clock.setQuietInterval,
        clearInterval: clock.clearInterval,
        setImmediate: clock.setImmediate,
        Date: { now: () => clock.now },
    }
}

/** jacdac-ts Scheduler on the virtual clock (bus.timestamp = virtual ms since start). */
export class ClockScheduler {
    private startMs: number
    constructor(private readonly clock: VirtualClock) {
        this.startMs = clock.now
    }
    get timestamp(): number {
        return this.clock.now - this.startMs
    }
    resetTime(delta = 0) {
        this.startMs = this.clock.now - delta
    }
    setTimeout(handler: (...a: any[]) => void, delay: number, ...args: any[]): any {
        return this.clock.setTimeout(handler, delay, ...args)
    }
    clearTimeout(handle: any) {
        this.clock.clearTimeout(handle)
    }
    setInterval(handler: (...a: any[]) => void, delay: number, ...args: any[]): any {
        return this.clock.setInterval(handler, delay, ...args)
    }
    clearInterval(handle: any) {
        this.clock.clearInterval(handle)
    }
}
