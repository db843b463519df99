// The V2H states, the ramp and the contact steps (src/core/v2h/sequencing.ts), through the
// supervisor's closed loop (tests/helpers/v2h-harness.ts). Each test states what the house, the
// vehicle or the installer sees: the commands to the inverter and the contacts, and the state
// events with their reasons. Expected values come from devs.json.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { V2hLoop, V2H_TICK_MS, bootedLoop, v2hConfig } from "../helpers/v2h-harness"

const V = DEVS.v2h
const C = V.contactor
const NO_BACKUP = { backup: { ...V.backup, enabled: false } }
const send = (l: V2hLoop, w: number) => expect(l.command({ mode: "setpoint", setpoint_w: w })).toBe("")
/** State events (state:reason) over ms. */
const states = (l: V2hLoop, ms: number) => {
    const out: string[] = []
    const end = l.nowMs + ms
    while (l.nowMs < end) for (const e of l.tick().events) if (e.kind === "state") out.push(`${e.state}:${e.reason}`)
    return out
}

describe("starting, running, the direction change", () => {
    it("a charge request: starting (charge_requested), then charging once the contactor reports closed", () => {
        const l = bootedLoop()
        l.houseW = 1000
        send(l, -2000)
        expect(states(l, 5000)).toEqual(["starting:charge_requested", "charging:contactor_closed"])
        expect(l.inverterW).toBe(-2000)
    })

    it("no power while the contactor does not report closed: the supervisor waits in starting", () => {
        const l = bootedLoop()
        l.contactorStuckOpen = true
        send(l, 2000)
        l.tick()
        for (let t = 0; t < C.feedbackTimeoutMs - V2H_TICK_MS; t += V2H_TICK_MS) {
            const st = l.tick()
            expect(st.state).toBe("starting")
            expect(st.commandW).toBe(0)
        }
        // The grid returns before the contact has moved: the transfer is called off at once.
        l.gridUp = true
        l.nowMs += V2H_TICK_MS
        const n = l.nowMs
        const st = l.sup.tick({ ...l.input, nowMs: n, batteryAtMs: n, inverterAtMs: n, gridAtMs: n, gridVoltageV: DEVS.grid.nominalVoltageV, gridFrequencyHz: DEVS.grid.nominalFrequencyHz, transferOnIsland: false })
        expect(st.transferCmd).toBe(false)
        expect(st.state).not.toBe("backup")
    })

    it("charging to discharging and back passes through 0 W (ceasing) for the dwell, with a reason each way", () => {
        const l = bootedLoop()
        l.houseW = 1000
        send(l, -2000)
        l.run(5000)
        send(l, 2000)
        const first = l.tick()
        expect(first.commandW).toBe(0)
        const dwell: boolean[] = []
        const t = l.until(s => {
            dwell.push(s.ceaseCmd)
            return s.commandW > 0
        }, 2 * V.directionDwellMs)
        expect(t).toBeGreaterThanOrEqual(V.directionDwellMs - V2H_TICK_MS)
        expect(dwell.slice(0, -1).every(c => c)).toBe(true) // at 0 W the inverter is told to cease
        expect(l.sup.status.state).toBe("discharging")
        expect(l.sup.status.stateReason).toBe("target_positive")
        l.run(5000)
        send(l, -2000)
        expect(l.tick().commandW).toBe(0)
        l.until(s => s.commandW < 0, 2 * V.directionDwellMs)
        expect(l.sup.status.state).toBe("charging")
        expect(l.sup.status.stateReason).toBe("target_negative")
    })

    it("a steady discharge longer than the idle-open delay keeps running", () => {
        const l = bootedLoop()
        send(l, 2000)
        l.run(3000)
        expect(states(l, C.idleOpenDelayMs + 5000)).toEqual([])
        expect(l.sup.status.contactorCmd).toBe(true)
    })

    it("the contactor opens only below openBelowW: a runaway at exactly openBelowW is a ramp_down_timeout exactly rampDownTimeoutMs into stopping", () => {
        const l = bootedLoop()
        send(l, 2000)
        l.run(5000)
        l.inverterStuckW = C.openBelowW
        expect(l.command({ mode: "idle" })).toBe("")
        let stoppingAtMs = NaN
        let faultAtMs = NaN
        l.until(s => {
            for (const e of s.events) {
                if (e.kind === "state" && e.state === "stopping") stoppingAtMs = e.atMs
                if (e.kind === "state" && e.state === "fault") faultAtMs = e.atMs
            }
            return s.state === "fault"
        }, C.idleOpenDelayMs + C.rampDownTimeoutMs + 2000)
        expect(l.sup.status.stateReason).toBe("ramp_down_timeout")
        expect(faultAtMs - stoppingAtMs).toBe(C.rampDownTimeoutMs)
        const ok = bootedLoop()
        send(ok, 2000)
        ok.run(5000)
        ok.inverterStuckW = C.openBelowW - 1
        expect(ok.command({ mode: "idle" })).toBe("")
        expect(states(ok, C.idleOpenDelayMs + 1000)).toEqual(["stopping:idle_none", "idle:power_at_zero"])
    })
})

describe("under a latched fault", () => {
    it("a fault that is no emergency: 0 W at once, the contactor opens only once the power is ~0, the grid relay stays closed", () => {
        const l = bootedLoop()
        send(l, 2000)
        l.run(5000)
        l.outletOn[0] = false
        l.outletW[0] = 400
        l.outletWelded[0] = true // the outlet core proved the relay welded: not an emergency for the power stage
        const st = l.until(s => s.faultLatched, 5000)
        expect(st).toBeGreaterThan(0)
        expect(l.sup.status.commandW).toBe(0)
        expect(l.sup.status.contactorCmd).toBe(true) // the inverter still delivers this tick
        l.tick()
        expect(l.sup.status.contactorCmd).toBe(false)
        expect(l.run(2000).gridRelayCmd).toBe(true)
    })

    it("a fault while islanded takes the house back to the grid side at once and stops forming the island", () => {
        const l = bootedLoop()
        send(l, 2000)
        l.run(5000)
        l.gridUp = false
        l.until(s => s.islandCmd, 5000)
        l.estop = true
        const st = l.tick()
        expect(st.state).toBe("fault")
        expect(st.islandCmd).toBe(false)
        expect(st.transferCmd).toBe(false)
    })

    it("a restored grid_relay_welded keeps the grid relay open; another restored fault closes it to a good grid", () => {
        const w = new V2hLoop()
        expect(w.sup.restoreFault("grid_relay_welded", 0)).toBe("")
        for (let k = 0; k < 20; k++) expect(w.tick().gridRelayCmd).toBe(false)
        const c = new V2hLoop()
        expect(c.sup.restoreFault("contactor_stuck_open", 0)).toBe("")
        c.run(2000)
        expect(c.sup.status.state).toBe("fault")
        expect(c.sup.status.gridRelayCmd).toBe(true)
    })

    it("no grid at boot (no backup): the grid relay is never commanded closed, with or without a restored fault", () => {
        for (const restored of ["none", "contactor_stuck_open"]) {
            const l = new V2hLoop(v2hConfig(NO_BACKUP))
            expect(l.sup.restoreFault(restored, 0)).toBe("")
            l.gridUp = false
            for (let t = 0; t < 5000; t += V2H_TICK_MS) expect(l.tick().gridRelayCmd).toBe(false)
        }
    })

    it("after a restart the grid-relay command starts from its feedback while the grid meter has not reported", () => {
        for (const closed of [true, false]) {
            const l = new V2hLoop()
            l.nowMs = 10 * V.readingTimeoutMs
            l.gridSilent = true
            l.gridRelayWelded = closed // what the relay reads at the restart
            const st = l.tick()
            expect(st.gridRelayCmd).toBe(closed)
        }
    })
})

describe("grid trips", () => {
    it("with backup, a trip of a live grid (over-voltage) is not islanded: grid_lost, 0 W, no island, the contactor opens at ~0 W", () => {
        const l = bootedLoop()
        send(l, 3000)
        l.run(8000)
        l.gridVoltageV = DEVS.grid.nominalVoltageV * 1.25
        const seen: string[] = []
        let st = l.tick()
        while (st.state !== "grid_lost") {
            for (const e of st.events) if (e.kind === "state") seen.push(`${e.state}:${e.reason}`)
            st = l.tick()
        }
        for (const e of st.events) if (e.kind === "state") seen.push(`${e.state}:${e.reason}`)
        expect(seen).toEqual(["grid_lost:grid_lost:over_voltage"])
        expect(st.commandW).toBe(0)
        expect(st.contactorCmd).toBe(true) // never opened under load: the inverter still delivers this tick
        for (let k = 0; k < 30; k++) {
            st = l.tick()
            expect(st.state).toBe("grid_lost")
            expect(st.islandCmd).toBe(false)
            expect(st.transferCmd).toBe(false)
            expect(st.ceaseCmd).toBe(true)
        }
        expect(st.contactorCmd).toBe(false)
        // The live grid then goes: island after all.
        l.gridUp = false
        expect(states(l, 3000)).toEqual(["backup:grid_lost:loss_of_grid"])
    })

    it("a loss of grid islands at once (one state event), and the island is formed only once the transfer contact reads island", () => {
        const l = bootedLoop()
        send(l, 2000)
        l.run(5000)
        l.gridUp = false
        const seen: string[] = []
        const end = l.nowMs + 5000
        while (l.nowMs < end) {
            const onIsland = l.transferOnIsland
            const st = l.tick()
            if (st.islandCmd) expect(l.input.transferOnIsland).toBe(true)
            if (st.islandCmd) expect(st.transferCmd).toBe(true)
            void onIsland
            for (const e of st.events) if (e.kind === "state") seen.push(`${e.state}:${e.reason}`)
        }
        expect(seen).toEqual(["backup:grid_lost:loss_of_grid"])
        expect(l.sup.status.islandCmd).toBe(true)
    })

    it("grid lost while idle: the island is supplied (the contactor closes); with nothing to give (SoC at the reserve) it stays open", () => {
        const l = bootedLoop()
        l.gridUp = false
        l.run(5000)
        expect(l.sup.status.state).toBe("backup")
        expect(l.sup.status.contactorCmd).toBe(true)
        expect(l.inverterW).toBe(Math.min(l.houseW, V.backup.islandedLimitW))
        const r = bootedLoop()
        r.socPct = V.reserve.defaultPct
        r.gridUp = false
        for (let t = 0; t < 5000; t += V2H_TICK_MS) expect(r.tick().contactorCmd).toBe(false)
        expect(r.sup.status.state).toBe("backup")
    })

    it("islanded: supplying keeps the contactor closed past the idle-open delay; at 0 W (the reserve reached) it opens after that delay", () => {
        const l = bootedLoop()
        l.houseW = 2000
        l.gridUp = false
        l.run(5000)
        for (let t = 0; t < C.idleOpenDelayMs + 2000; t += V2H_TICK_MS) expect(l.tick().contactorCmd).toBe(true)
        l.socPct = V.reserve.defaultPct
        l.until(s => s.commandW === 0, 2000)
        const t = l.until(s => !s.contactorCmd, C.idleOpenDelayMs + 2000)
        expect(t).toBeGreaterThanOrEqual(C.idleOpenDelayMs - 2 * V2H_TICK_MS)
        expect(t).toBeLessThanOrEqual(C.idleOpenDelayMs + 2 * V2H_TICK_MS)
    })

    it("the idle-open delay starts again at each state change: a grid loss at 0 W keeps the contactor for the delay", () => {
        const l = bootedLoop()
        send(l, 2000)
        l.run(5000)
        l.socPct = V.reserve.defaultPct // nothing to give: 0 W, the contactor still closed
        l.run(C.idleOpenDelayMs / 2)
        expect(l.sup.status.contactorCmd).toBe(true)
        l.gridUp = false
        l.until(s => s.state === "backup", 2000)
        const t = l.until(s => !s.contactorCmd, 2 * C.idleOpenDelayMs)
        expect(t).toBeGreaterThanOrEqual(C.idleOpenDelayMs - 2 * V2H_TICK_MS)
    })

    it("islanded and carrying the house, a returned grid outside the enter-service window does not take the house back", () => {
        const l = bootedLoop()
        l.houseW = 2000 // below the islanded limit: the island carries it
        l.gridUp = false
        l.run(5000)
        l.gridUp = true
        l.gridVoltageV = DEVS.grid.nominalVoltageV * 1.08 // live, above the window's maxPu, below every trip
        l.run(V.backup.retransferDelayMs * 3)
        expect(l.sup.status.state).toBe("backup")
        expect(l.transferOnIsland).toBe(true)
    })

    it("an island at its limit goes back to a returned live grid at once; the house stays on the grid through the enter-service delay", () => {
        const e = { ...DEVS.grid.enterService, delayMs: 20000, rampMs: 1000 }
        const l = bootedLoop(v2hConfig(undefined, { enterService: e }))
        l.houseW = V.backup.islandedLimitW + 2000 // more than the island can give
        l.gridUp = false
        l.run(5000)
        expect(l.sup.status.islandCmd).toBe(true)
        l.gridUp = true
        const back = l.until(s => !s.transferCmd, V.backup.retransferDelayMs)
        expect(back).toBeGreaterThan(0)
        expect(back).toBeLessThan(V.backup.retransferDelayMs)
        expect(l.sup.status.islandCmd).toBe(false)
        const seen = states(l, e.delayMs + 2000)
        expect(seen).toEqual(["grid_lost:grid_back", "idle:grid_back"])
    })
})

describe("islanded: what the island can carry", () => {
    /** Islanded on a lost grid, then the grid returns; ms until the house is back on the grid. */
    const backAfter = (l: V2hLoop) => {
        l.gridUp = false
        l.run(5000)
        expect(l.sup.status.state).toBe("backup")
        l.gridUp = true
        return l.until(s => !s.transferCmd, 3 * V.backup.retransferDelayMs)
    }

    it("an island that cannot carry the house goes back to a returned live grid at once: nothing to give, a silent inverter, at its limit", () => {
        const reserve = bootedLoop()
        reserve.socPct = V.reserve.defaultPct
        const silent = bootedLoop()
        const atLimit = bootedLoop()
        atLimit.houseW = V.backup.islandedLimitW - C.openBelowW // within openBelowW of the limit counts as at it
        for (const [l, prep] of [
            [reserve, () => {}],
            [silent, () => (silent.inverterSilent = true)],
            [atLimit, () => {}],
        ] as [V2hLoop, () => void][]) {
            l.gridUp = false
            l.run(5000)
            prep()
            l.run(V.readingTimeoutMs + 500)
            l.gridUp = true
            const t = l.until(s => !s.transferCmd, 3 * V.backup.retransferDelayMs)
            expect(t).toBeGreaterThan(0)
            expect(t).toBeLessThan(V.backup.retransferDelayMs)
        }
        const carries = bootedLoop()
        carries.houseW = V.backup.islandedLimitW - C.openBelowW - 1
        expect(backAfter(carries)).toBeGreaterThanOrEqual(V.backup.retransferDelayMs)
    })

    it("a grid back in service before the retransfer: the house returns, the contactor opens at ~0 W (stopping, then idle)", () => {
        const e = { ...DEVS.grid.enterService, delayMs: 1000, rampMs: 1000 }
        const l = bootedLoop(v2hConfig(undefined, { enterService: e }))
        l.houseW = 2000
        l.gridUp = false
        l.run(5000)
        expect(l.sup.status.contactorCmd).toBe(true)
        l.gridUp = true
        expect(states(l, V.backup.retransferDelayMs + 2000)).toEqual(["stopping:grid_back", "idle:power_at_zero"])
    })

    it("an island about to carry again (its contactor closing, 0 W for that tick) waits out the retransfer delay for a returned grid", () => {
        const l = bootedLoop()
        l.houseW = 2000 // below the islanded limit: once the contactor is closed the island carries it
        l.socPct = V.reserve.defaultPct // nothing to give: islanded with the contactor open
        l.gridUp = false
        l.run(5000)
        expect(l.sup.status.state).toBe("backup")
        expect(l.sup.status.contactorCmd).toBe(false)
        l.socPct = 70 // charged again: something to give
        const st = l.tick()
        expect(st.contactorCmd).toBe(true)
        expect(st.commandW).toBe(0) // the contactor does not read closed yet
        l.gridUp = true
        expect(l.until(s => !s.transferCmd, 3 * V.backup.retransferDelayMs)).toBeGreaterThanOrEqual(V.backup.retransferDelayMs)
    })

    it("a grid already in service when the house returns to it, the DC contactor open: idle (grid_back)", () => {
        const e = { ...DEVS.grid.enterService, delayMs: 0, rampMs: 1000 }
        const l = bootedLoop(v2hConfig(undefined, { enterService: e }))
        l.socPct = V.reserve.defaultPct // nothing to give: the contactor stays open, the island cannot carry
        l.gridUp = false
        l.run(5000)
        expect(l.sup.status.state).toBe("backup")
        expect(l.sup.status.contactorCmd).toBe(false)
        l.gridUp = true
        expect(states(l, 2000)).toEqual(["idle:grid_back"])
    })

    it("break before make: the island is never formed while the transfer contact still reads the grid side", () => {
        const l = bootedLoop()
        l.gridUp = false
        l.until(s => s.state === "backup", 2000)
        for (let k = 0; k < 30; k++) {
            l.nowMs += V2H_TICK_MS
            const n = l.nowMs
            const st = l.sup.tick({ ...l.input, nowMs: n, batteryAtMs: n, inverterAtMs: n, gridAtMs: n, transferOnIsland: false })
            expect(st.transferCmd).toBe(true)
            expect(st.islandCmd).toBe(false)
            expect(st.commandW).toBe(0)
        }
    })

    it("an island feeding a tiny load keeps the contactor closed past the idle-open delay", () => {
        const l = bootedLoop()
        l.houseW = C.openBelowW / 2
        l.gridUp = false
        l.run(5000)
        for (let t = 0; t < C.idleOpenDelayMs + 2000; t += V2H_TICK_MS) expect(l.tick().contactorCmd).toBe(true)
    })
})

describe("restart with the grid relay closed", () => {
    it("its feedback timer counts from the restart: a relay dropping open soon after the grid meter's return latches stuck open at once", () => {
        const l = new V2hLoop()
        const t0 = 10 * V.readingTimeoutMs
        const at = (now: number, gridFresh: boolean, relayClosed: boolean) =>
            l.sup.tick({
                ...l.input,
                nowMs: now,
                socPct: 70,
                batteryVoltageV: 360,
                maxDischargeCurrentA: 100,
                maxChargeCurrentA: 100,
                batteryAtMs: now,
                inverterAtMs: now,
                inverterTempC: 30,
                gridRelayClosed: relayClosed,
                gridVoltageV: DEVS.grid.nominalVoltageV,
                gridFrequencyHz: DEVS.grid.nominalFrequencyHz,
                gridAtMs: gridFresh ? now : 0,
            })
        // The first fresh inverter reading shows the relay closed; the grid meter is silent for 3 s.
        let t = t0
        for (; t < t0 + 3000; t += V2H_TICK_MS) expect(at(t, false, true).gridRelayCmd).toBe(true)
        // The grid meter is back (the relay still closed), then the relay drops open by itself.
        expect(at(t, true, true).fault).toBe("none")
        t += V2H_TICK_MS
        const st = at(t, true, false)
        expect(st.fault).toBe("grid_relay_stuck_open")
        expect(st.lastFaultAtMs).toBe(t)
    })
})

