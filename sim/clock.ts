// Virtual time for a simulation: one fake clock drives the DeviceScript VM (through injected
// time functions), the jacdac-ts bus (through its Scheduler) and the plant, without touching
// Node's global timers. Advancing it runs every due timer in order, with microtasks between.
import FakeTimers from "@sinonjs/fake-timers"
import type { VmTimers } from "./vm/devs-vm"

export type Clock = ReturnType<ReturnType<typeof FakeTimers.withGlobal>["createClock"]>

export function createClock(): Clock {
    // A large loop limit: a simulated day runs millions of timers.
    return FakeTimers.withGlobal(globalThis).createClock(0, 1e9)
}

export function vmTimers(clock: Clock): VmTimers {
    return {
        setTimeout: clock.setTimeout.bind(clock),
        clearTimeout: clock.clearTimeout.bind(clock),
        setInterval: clock.setInterval.bind(clock),
        clearInterval: clock.clearInterval.bind(clock),
        setImmediate: clock.setImmediate.bind(clock),
        Date: { now: () => clock.now },
    }
}

/** jacdac-ts Scheduler on the virtual clock (bus.timestamp = virtual ms since start). */
export class ClockScheduler {
    private startMs: number
    constructor(private readonly clock: Clock) {
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
