// Loop health: how late each of the firmware's own loops starts and how long it runs, since boot.
// The shell calls start()/end() around each run (protection, V2H and supervisory ticks, the MQTT
// command handler); this module only does the arithmetic, so the same figures come out of the
// firmware, the simulator's summary and the unit tests.
//
//   lateness  = start - (previous start + period), for periodic loops (0 for the first run and for
//               event handlers, which have no period);
//   run time  = end - start (a run that awaits bus writes counts its waiting: that is what delays
//               the next tick);
//   overrun   = a run longer than its budget (the period; for handlers, the budget given), or a
//               start later than one whole period (a tick was missed);
//   recent    = the worst lateness in the current and the previous window of windowMs
//               (ticks.loopHealthWindowMs): what the loop does now, under today's load, rather
//               than the boot's role binding, which sets the since-boot figure.
//
// Pure, allocation-free per run; DeviceScript subset.

export interface LoopStats {
    name: string
    /** 0 for an event handler. */
    periodMs: number
    /** Run time above which a run counts as an overrun. */
    budgetMs: number
    runs: number
    maxRunMs: number
    maxLateMs: number
    overruns: number
    /** Start of the run under way or of the last one (-1 before the first). */
    lastStartMs: number
    /** Worst lateness in the window that started at winStartMs, and in the one before it. */
    winLateMs: number
    prevWinLateMs: number
    winStartMs: number
}

export class LoopHealth {
    readonly loops: LoopStats[] = []

    /** windowMs: the recent window (ticks.loopHealthWindowMs). */
    constructor(readonly windowMs: number) {}

    /** Registers a loop and returns its index (periodMs 0: an event handler with the given budget). */
    add(name: string, periodMs: number, budgetMs?: number): number {
        const budget = budgetMs !== undefined && budgetMs > 0 ? budgetMs : periodMs
        this.loops.push({
            name: name,
            periodMs: periodMs,
            budgetMs: budget,
            runs: 0,
            maxRunMs: 0,
            maxLateMs: 0,
            overruns: 0,
            lastStartMs: -1,
            winLateMs: 0,
            prevWinLateMs: 0,
            winStartMs: -1,
        })
        return this.loops.length - 1
    }

    /** A run of loop i starts now. Unknown indices and non-finite times are ignored. */
    start(i: number, nowMs: number) {
        const l = this.loops[i]
        if (!l || !(nowMs === nowMs)) return
        const sinceWinMs = nowMs - l.winStartMs
        if (l.winStartMs < 0 || sinceWinMs >= this.windowMs) {
            // a window with no start at all in it (a loop that stopped) leaves nothing recent
            l.prevWinLateMs = l.winStartMs >= 0 && sinceWinMs < 2 * this.windowMs ? l.winLateMs : 0
            l.winLateMs = 0
            l.winStartMs = nowMs
        }
        if (l.periodMs > 0 && l.lastStartMs >= 0) {
            const lateMs = nowMs - (l.lastStartMs + l.periodMs)
            if (lateMs > l.maxLateMs) l.maxLateMs = lateMs
            if (lateMs > l.winLateMs) l.winLateMs = lateMs
            if (lateMs >= l.periodMs) l.overruns++
        }
        l.lastStartMs = nowMs
    }

    /** The run of loop i that started last ends now. */
    end(i: number, nowMs: number) {
        const l = this.loops[i]
        if (!l || l.lastStartMs < 0 || !(nowMs === nowMs)) return
        const runMs = nowMs - l.lastStartMs
        l.runs++
        if (runMs > l.maxRunMs) l.maxRunMs = runMs
        if (runMs > l.budgetMs) l.overruns++
    }

    /** Loop i's stats, or null. */
    get(i: number): LoopStats {
        return this.loops[i] ? this.loops[i] : null
    }

    /** Overruns of every loop together. */
    totalOverruns(): number {
        let n = 0
        for (const l of this.loops) n += l.overruns
        return n
    }

    /** Loop i's worst lateness in the current and the previous window (0 for an unknown loop). */
    recentLateMs(i: number): number {
        const l = this.loops[i]
        return l ? Math.max(l.winLateMs, l.prevWinLateMs) : 0
    }

    /**
     * The status document's `loops` object:
     * { <name>: { runs, max_run_ms, max_late_ms, recent_late_ms, overruns } }.
     */
    json(): any {
        const out: any = {}
        for (let i = 0; i < this.loops.length; i++) {
            const l = this.loops[i]
            out[l.name] = {
                runs: l.runs,
                max_run_ms: Math.round(l.maxRunMs),
                max_late_ms: Math.round(l.maxLateMs),
                recent_late_ms: Math.round(this.recentLateMs(i)),
                overruns: l.overruns,
            }
        }
        return out
    }
}
