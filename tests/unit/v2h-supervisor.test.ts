// The V2H supervisor on Node, through the DeviceScript-subset harness (tests/helpers/v2h-harness.ts).
// Expected values come from devs.json and the rules, not from the implementation.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { LIMIT_REASONS } from "../../src/core/v2h/limits"
import { V2hLoop, V2H_TICK_MS, bootedLoop, v2hConfig } from "../helpers/v2h-harness"

const V = DEVS.v2h
const discharging = (w: number) => (l: V2hLoop) => {
    expect(l.command({ mode: "setpoint", setpoint_w: w })).toBe("")
}

describe("setpoint following and ramp", () => {
    it("closes the contactor, then ramps up at rampUpWPerS and holds the target", () => {
        const l = bootedLoop()
        expect(l.sup.status.state).toBe("idle")
        expect(l.sup.status.gridRelayCmd).toBe(true)
        discharging(3000)(l)
        l.tick()
        expect(l.sup.status.state).toBe("starting")
        expect(l.sup.status.contactorCmd).toBe(true)
        expect(l.sup.status.commandW).toBe(0) // no power before the contactor's feedback
        const tStart = l.until(s => s.commandW > 0, 1000)
        expect(tStart).toBeGreaterThan(0)
        expect(l.sup.status.state).toBe("discharging")
        // 3000 W at 1000 W/s: 3 s, never above the target.
        let max = 0
        const tRamp = l.until(s => {
            max = Math.max(max, s.commandW)
            return s.commandW >= 3000
        }, 10000)
        expect(tRamp).toBeGreaterThanOrEqual(3000 - 2 * V2H_TICK_MS)
        expect(tRamp).toBeLessThanOrEqual(3000 + V2H_TICK_MS)
        expect(max).toBe(3000)
        l.run(10000)
        expect(l.inverterW).toBe(3000)
        expect(l.sup.status.limitReason).toBe("none")
    })

    it("decreases at once, and passes through 0 W with a dwell when the direction changes", () => {
        const l = bootedLoop()
        discharging(3000)(l)
        l.run(6000)
        discharging(1000)(l)
        expect(l.tick().commandW).toBe(1000)
        expect(l.command({ mode: "setpoint", setpoint_w: -2000 })).toBe("")
        expect(l.tick().commandW).toBe(0)
        // Charging waits directionDwellMs at 0 W (no hunting between directions).
        const waited = l.until(s => s.commandW < 0, 20000)
        expect(waited).toBeGreaterThanOrEqual(V.directionDwellMs - V2H_TICK_MS)
        expect(waited).toBeLessThanOrEqual(V.directionDwellMs + 2 * V2H_TICK_MS)
        l.run(5000)
        expect(l.sup.status.state).toBe("charging")
        expect(l.inverterW).toBe(-2000)
    })

    it("opens the contactor only after the power is ramped to ~0 and the idle delay passed", () => {
        const l = bootedLoop()
        discharging(2000)(l)
        l.run(5000)
        expect(l.command({ mode: "idle" })).toBe("")
        let openedAtW = NaN
        const t = l.until(s => {
            if (!s.contactorCmd && openedAtW !== openedAtW) openedAtW = l.inverterW
            return !s.contactorCmd
        }, 60000)
        expect(t).toBeGreaterThanOrEqual(V.contactor.idleOpenDelayMs)
        expect(Math.abs(openedAtW)).toBeLessThan(V.contactor.openBelowW)
        expect(l.tick().state).toBe("idle")
    })
})

describe("limits, each with its reason", () => {
    it("vehicle discharge allowance x battery voltage x efficiency", () => {
        const l = bootedLoop()
        l.maxDischargeCurrentA = 5
        discharging(3000)(l)
        const st = l.run(10000)
        expect(st.targetW).toBeCloseTo(5 * 360 * V.inverterEfficiency, 6)
        expect(st.limitReason).toBe("vehicle_discharge_limit")
    })

    it("the outlets come first: V2H gets the vehicle allowance minus the outlet draw", () => {
        const l = bootedLoop()
        l.maxDischargeCurrentA = 10 // 3,420 W AC
        l.outletsW = 1200
        discharging(3000)(l)
        const st = l.run(10000)
        expect(st.targetW).toBeCloseTo(10 * 360 * V.inverterEfficiency - 1200, 6)
        expect(st.limitReason).toBe("outlet_share")
        expect(st.limitMask & (1 << LIMIT_REASONS.indexOf("vehicle_discharge_limit"))).not.toBe(0)
    })

    it("SoC reserve stops discharge with hysteresis; the charge limit stops charging", () => {
        const l = bootedLoop()
        l.socPct = V.reserve.defaultPct
        discharging(2000)(l)
        let st = l.run(3000)
        expect(st.targetW).toBe(0)
        expect(st.limitReason).toBe("soc_reserve")
        l.socPct = V.reserve.defaultPct + V.socHysteresisPct - 0.1
        expect(l.run(1000).targetW).toBe(0)
        l.socPct = V.reserve.defaultPct + V.socHysteresisPct + 0.1
        expect(l.run(1000).targetW).toBe(2000)
        l.socPct = V.chargeLimit.defaultPct
        expect(l.command({ mode: "setpoint", setpoint_w: -2000 })).toBe("")
        st = l.run(10000)
        expect(st.targetW).toBe(0)
        expect(st.limitReason).toBe("charge_limit")
    })

    it("temperature derating: linear from startC to stopC, off above, back below resumeBelowC", () => {
        const l = bootedLoop()
        discharging(6000)(l)
        const d = V.derating
        l.inverterTempC = (d.startC + d.stopC) / 2
        let st = l.run(10000)
        expect(st.targetW).toBeCloseTo(V.ratedPowerW / 2, 6)
        expect(st.limitReason).toBe("over_temperature")
        l.inverterTempC = d.stopC
        expect(l.run(200).targetW).toBe(0)
        l.inverterTempC = d.resumeBelowC + 0.5 // cooler, but not yet below resumeBelowC
        expect(l.run(1000).targetW).toBe(0)
        l.inverterTempC = d.resumeBelowC - 0.5
        st = l.run(1000)
        expect(st.targetW).toBeCloseTo((V.ratedPowerW * (d.stopC - l.inverterTempC)) / (d.stopC - d.startC), 6)
    })

    it("no reverse flow: discharge <= house load - PV - margin, unless devs.json allows export", () => {
        const l = bootedLoop()
        l.houseW = 2000
        l.pvW = 500
        discharging(3000)(l)
        const st = l.run(10000)
        expect(st.targetW).toBeCloseTo(1500 - V.exportMarginW, 6)
        expect(st.limitReason).toBe("no_reverse_flow")
        expect(l.gridW()).toBeGreaterThanOrEqual(0)
        const ex = bootedLoop(v2hConfig({ reverseFlowAllowed: true }))
        ex.houseW = 2000
        discharging(3000)(ex)
        expect(ex.run(10000).targetW).toBe(3000)
        expect(ex.gridW()).toBe(-1000)
    })

    it("charging is throttled to keep grid import under maxGridImportW", () => {
        const l = bootedLoop()
        l.houseW = 5000
        expect(l.command({ mode: "setpoint", setpoint_w: -3000 })).toBe("")
        const st = l.run(15000)
        expect(st.targetW).toBeCloseTo(-(V.maxGridImportW - 5000), 6)
        expect(st.limitReason).toBe("grid_import_limit")
        expect(l.gridW()).toBeLessThanOrEqual(V.maxGridImportW + 1e-6)
    })

    it("at equal bounds the higher-priority reason is reported (safety before SoC reserve)", () => {
        const l = bootedLoop()
        l.socPct = 20
        discharging(2000)(l)
        expect(l.run(1000).limitReason).toBe("soc_reserve")
        l.batterySilent = true
        const st = l.run(DEVS.socFloor.socTimeoutMs + 500)
        expect(st.targetW).toBe(0)
        expect(st.limitReason).toBe("battery_stale")
    })
})

describe("command timeout and fallback", () => {
    it("reverts to the fallback setpoint after commandTimeoutMs and reports it; an identical command refreshes the timer", () => {
        const l = bootedLoop()
        discharging(2000)(l)
        l.run(V.commandTimeoutMs - 10000)
        discharging(2000)(l) // identical: refreshes
        let st = l.run(V.commandTimeoutMs - 1000)
        expect(st.requestSource).toBe("hems")
        expect(st.targetW).toBe(2000)
        const events: string[] = []
        const t = l.until(s => {
            for (const e of s.events) events.push(e.kind)
            return s.requestSource === "fallback"
        }, 5000)
        expect(t).toBeGreaterThan(0)
        expect(events).toContain("command_timeout")
        st = l.tick()
        expect(st.targetW).toBe(V.fallbackSetpointW)
        expect(st.commandW).toBe(V.fallbackSetpointW)
        discharging(1500)(l)
        expect(l.run(3000).requestSource).toBe("hems")
    })

    it("local modes do not time out", () => {
        const l = bootedLoop()
        expect(l.command({ mode: "self_consumption" })).toBe("")
        const st = l.run(V.commandTimeoutMs * 2)
        expect(st.requestSource).toBe("local")
        expect(st.targetW).toBeGreaterThan(0)
    })
})

describe("local modes", () => {
    it("self-consumption covers the house net load without exporting, ignores small changes", () => {
        const l = bootedLoop()
        l.houseW = 2500
        l.pvW = 500
        expect(l.command({ mode: "self_consumption" })).toBe("")
        l.run(10000)
        expect(l.inverterW).toBeCloseTo(2000 - V.exportMarginW, 6)
        expect(l.gridW()).toBeCloseTo(V.exportMarginW, 6)
        const before = l.sup.status.requestW
        l.houseW += V.selfConsumption.deadbandW / 2
        l.run(2000)
        expect(l.sup.status.requestW).toBe(before)
        l.houseW += V.selfConsumption.deadbandW * 2
        l.run(2000)
        expect(l.sup.status.requestW).toBeGreaterThan(before)
        l.pvW = 5000 // PV above the house: nothing to cover
        expect(l.run(2000).targetW).toBe(0)
    })

    it("PV-surplus charging starts above startSurplusW, stops below stopSurplusW, with minimum on/off times", () => {
        const p = V.pvSurplus
        const l = bootedLoop()
        l.houseW = 500
        l.pvW = 500 + p.startSurplusW - 100 // not enough
        expect(l.command({ mode: "pv_surplus" })).toBe("")
        expect(l.run(p.minOffMs + 1000).targetW).toBe(0)
        l.pvW = 500 + p.startSurplusW + 600
        let st = l.run(15000)
        expect(st.targetW).toBeCloseTo(-(p.startSurplusW + 600 - p.marginW), 6)
        expect(l.gridW()).toBeCloseTo(-p.marginW, 6) // a little export kept: charging never imports
        // Surplus falls below stop: charging continues until minOnMs, then stops.
        l.pvW = 500 + p.stopSurplusW - 100
        st = l.run(p.minOnMs - 20000)
        expect(st.targetW).not.toBe(0) // still within the minimum on time... charging what surplus there is
        const t = l.until(s => s.requestW === 0, 60000)
        expect(t).toBeGreaterThanOrEqual(0)
        // Surplus back above start right away: waits out minOffMs.
        l.pvW = 500 + p.startSurplusW + 600
        st = l.run(p.minOffMs - 10000)
        expect(st.requestW).toBe(0)
        expect(l.until(s => s.requestW < 0, 20000)).toBeGreaterThan(0)
    })

    it("time-of-use schedule follows the windows of devs.json, and needs the time of day", () => {
        const l = bootedLoop()
        expect(l.command({ mode: "schedule" })).toBe("")
        let st = l.run(1000)
        expect(st.requestW).toBe(0)
        expect(st.modeNote).toBe("time_unknown")
        const w = V.schedule[1] // 17:00-21:00 +3000 W
        const startS = Number(w.from.slice(0, 2)) * 3600 + Number(w.from.slice(3, 5)) * 60
        expect(l.sup.setTimeOfDay(startS - 60, l.nowMs)).toBe("")
        expect(l.run(30000).requestW).toBe(0)
        st = l.run(40000)
        expect(st.requestW).toBe(w.powerW)
        expect(l.sup.setTimeOfDay(86400, l.nowMs)).toMatch(/time_of_day = 86400/)
        // A window across midnight (the first one is 01:00-06:00; check wrap with a custom schedule).
        const wrap = bootedLoop(v2hConfig({ schedule: [{ from: "22:00", to: "02:00", powerW: -1000 }] }))
        wrap.command({ mode: "schedule" })
        wrap.sup.setTimeOfDay(23 * 3600, wrap.nowMs)
        expect(wrap.run(500).requestW).toBe(-1000)
        wrap.sup.setTimeOfDay(1 * 3600, wrap.nowMs)
        expect(wrap.run(500).requestW).toBe(-1000)
        wrap.sup.setTimeOfDay(3 * 3600, wrap.nowMs)
        expect(wrap.run(500).requestW).toBe(0)
    })
})

describe("grid loss", () => {
    it("with backup: stops exporting at once, opens the grid relay, then supplies the house islanded up to the limit", () => {
        const l = bootedLoop()
        discharging(3000)(l)
        l.run(8000)
        l.gridUp = false
        const tDetect = l.until(s => s.state === "backup", 5000)
        expect(tDetect).toBeLessThanOrEqual(DEVS.grid.lossOfGrid.detectMs + 2 * V2H_TICK_MS)
        expect(l.sup.status.commandW).toBe(0)
        expect(l.sup.status.stateReason).toBe("grid_lost:loss_of_grid")
        const tIsolated = l.until(s => !l.gridRelayClosed && s.islandCmd, 2000)
        expect(tIsolated).toBeGreaterThan(0)
        // Islanding starts only with the grid relay open, from 0 W along the ramp.
        expect(l.sup.status.commandW).toBeLessThanOrEqual((V.rampUpWPerS * V2H_TICK_MS) / 1000)
        l.run(10000)
        expect(l.sup.status.requestSource).toBe("backup")
        expect(l.sup.status.commandW).toBe(V.backup.islandedLimitW)
        expect(l.inverterW).toBe(Math.min(l.houseW, V.backup.islandedLimitW))
        expect(l.gridRelayClosed).toBe(false)
        l.houseW = 1200 // grid-forming: the house takes what it needs
        l.run(1000)
        expect(l.inverterW).toBe(1200)
        expect(l.unservedW()).toBe(0)
    })

    it("stays islanded until the grid has been in band for the enter-service delay, then reconnects and ramps back", () => {
        const l = bootedLoop()
        discharging(3000)(l)
        l.run(8000)
        l.gridUp = false
        l.run(10000)
        l.gridUp = true
        const e = DEVS.grid.enterService
        // The HEMS keeps its setpoint alive (else it would fall back after commandTimeoutMs).
        const hemsRun = (ms: number) => {
            for (let t = 0; t < ms; t += 30000) {
                discharging(3000)(l)
                l.run(Math.min(30000, ms - t))
            }
            return l.sup.status
        }
        let st = hemsRun(e.delayMs - 5000)
        expect(st.state).toBe("backup")
        expect(st.gridState).toBe("reconnecting")
        const t = l.until(s => s.state !== "backup", 20000)
        expect(t).toBeGreaterThan(0)
        expect(l.gridRelayClosed || l.sup.status.gridRelayCmd).toBe(true)
        st = hemsRun(e.rampMs / 4)
        expect(st.limitReason).toBe("enter_service_ramp")
        // The ramp starts when the grid is judged back (a few ticks before the relay recloses).
        expect(Math.abs(st.targetW - V.ratedPowerW / 4)).toBeLessThan(100)
        hemsRun((e.rampMs * 3) / 4 + 5000)
        expect(l.inverterW).toBe(3000)
    })

    it("without backup: 0 W within 2 s of the grid dropping, the grid relay opens, and power returns only after the delay", () => {
        const l = bootedLoop(v2hConfig({ backup: { enabled: false, islandedLimitW: 0 } }))
        discharging(3000)(l)
        l.run(8000)
        l.gridUp = false
        expect(l.until(s => s.state === "grid_lost" && s.commandW === 0, 2000)).toBeGreaterThan(0)
        l.run(5000)
        expect(l.sup.status.contactorCmd).toBe(false)
        expect(l.sup.status.gridRelayCmd).toBe(true) // the house stays on the grid side
        expect(l.unservedW()).toBe(l.houseW)
        l.gridUp = true
        expect(l.run(1000).state).toBe("grid_lost")
        expect(l.unservedW()).toBe(0) // the grid feeds the house again at once
        // A self-consumption house keeps a request without a HEMS keep-alive.
        expect(l.command({ mode: "self_consumption" })).toBe("")
        l.run(DEVS.grid.enterService.delayMs - 2000)
        expect(l.inverterW).toBe(0)
        expect(l.sup.status.limitMask & (1 << LIMIT_REASONS.indexOf("grid_reconnecting"))).not.toBe(0)
        l.run(DEVS.grid.enterService.rampMs + 20000)
        expect(l.sup.status.state).toBe("discharging")
        expect(l.inverterW).toBeCloseTo(l.houseW - V.exportMarginW, 6)
    })

    it("over-voltage trips along the table (ride-through below the clearing time)", () => {
        const l = bootedLoop()
        discharging(2000)(l)
        l.run(5000)
        l.gridVoltageV = DEVS.grid.nominalVoltageV * 1.15 // above OV1 (1.10 pu, 13 s), below OV2
        l.run(DEVS.grid.overVoltage[1].clearMs - 1000)
        expect(l.sup.status.gridState).toBe("ok")
        expect(l.until(s => s.gridState === "tripped", 3000)).toBeGreaterThan(0)
        expect(l.sup.status.gridTrip).toBe("over_voltage")
    })
})

describe("faults", () => {
    it("e-stop: everything off in the same tick, latched, cleared only once released", () => {
        const l = bootedLoop()
        discharging(3000)(l)
        l.run(8000)
        l.estop = true
        const st = l.tick()
        expect(st.state).toBe("fault")
        expect(st.fault).toBe("estop")
        expect(st.commandW).toBe(0)
        expect(st.contactorCmd).toBe(false) // opened under load: emergency
        expect(st.gridRelayCmd).toBe(false)
        l.estop = false
        l.run(2000)
        expect(l.sup.status.fault).toBe("estop")
        expect(l.sup.status.commandW).toBe(0)
        l.estop = true
        l.tick()
        expect(l.sup.clearFaults(l.nowMs)).toMatch(/e-stop is still pressed/)
        l.estop = false
        l.tick()
        expect(l.sup.clearFaults(l.nowMs)).toBe("")
        l.run(10000)
        expect(l.sup.status.state).toBe("discharging")
        expect(l.sup.faultLog.map(f => f.fault)).toContain("estop")
    })

    it("without its e-stop input (role unbound) no V2H power flows, nothing is latched", () => {
        const l = bootedLoop()
        discharging(2000)(l)
        l.run(5000)
        const inp = { ...l.input, nowMs: l.nowMs + V2H_TICK_MS, estopAvailable: false }
        const st = l.sup.tick(inp)
        expect(st.targetW).toBe(0)
        expect(st.limitReason).toBe("estop")
        expect(st.faultLatched).toBe(false)
        expect(l.tick().targetW).toBe(2000) // back as soon as the input is there
    })

    it("a welded contactor (feedback after an open command) latches; clearing is refused while it reads closed", () => {
        const l = bootedLoop()
        discharging(2000)(l)
        l.run(5000)
        l.contactorWelded = true
        expect(l.command({ mode: "idle" })).toBe("")
        const t = l.until(s => s.fault === "contactor_welded", V.contactor.idleOpenDelayMs + 10000)
        expect(t).toBeGreaterThan(V.contactor.idleOpenDelayMs)
        expect(l.sup.status.faultLatched).toBe(true)
        expect(l.sup.clearFaults(l.nowMs)).toMatch(/welded/)
        l.contactorWelded = false
        l.run(1000)
        expect(l.sup.clearFaults(l.nowMs)).toBe("")
    })

    it("a welded outlet relay (power with the relay off) latches a fault", () => {
        const l = bootedLoop()
        l.outletOn[1] = false
        l.outletW[1] = 300
        const t = l.until(s => s.fault === "outlet2_relay_welded", 5000)
        expect(t).toBeGreaterThanOrEqual(V.contactor.feedbackTimeoutMs)
    })

    it("every configured outlet reports its own welded relay: outlet 3 of 3 is outlet3_relay_welded, outlet 4 of 4 outlet4", () => {
        for (const count of [1, 3, 4]) {
            const cfg = { ...v2hConfig(), outlets: { ...DEVS.outlets, count, highPriorityOutlet: 1 } }
            const l = new V2hLoop(cfg)
            l.outletOn.length = l.outletW.length = 0
            for (let i = 0; i < count; i++) {
                l.outletOn.push(true)
                l.outletW.push(0)
            }
            l.run(1000)
            l.outletOn[count - 1] = false
            l.outletW[count - 1] = 300
            expect(l.until(s => s.faultLatched, 5000), `count ${count}`).toBeGreaterThanOrEqual(V.contactor.feedbackTimeoutMs)
            expect(l.sup.status.fault).toBe(`outlet${count}_relay_welded`)
            expect(l.sup.clearFaults(l.nowMs)).toBe(`cannot clear faults: outlet ${count} still delivers 300 W with its relay off (welded)`)
            l.outletW[count - 1] = 0
            expect(l.sup.clearFaults(l.nowMs + 1)).toBe("")
        }
    })

    it("stale battery, inverter or grid readings force 0 W and recover when fresh", () => {
        for (const which of ["batterySilent", "inverterSilent", "gridSilent"] as const) {
            const l = bootedLoop()
            discharging(2000)(l)
            l.run(5000)
            l[which] = true
            const t = l.until(s => s.targetW === 0, 10000)
            expect(t).toBeGreaterThan(0)
            const fault = l.sup.status.fault
            expect(["battery_stale", "inverter_stale", "grid_meter_stale"]).toContain(fault)
            expect(l.sup.status.faultLatched).toBe(false)
            l[which] = false
            l.run(10000)
            expect(l.sup.status.fault).toBe("none")
            expect(l.inverterW).toBe(2000)
        }
    })

    it("an inverter measuring far above its rating is an emergency", () => {
        const l = bootedLoop()
        discharging(2000)(l)
        l.run(5000)
        // The ideal plant follows the command; fake a runaway reading through the input.
        const sup = l.sup
        const inp = { ...l.input, nowMs: l.nowMs + V2H_TICK_MS, inverterW: V.ratedPowerW * V.overloadRatio + 1, inverterAtMs: l.nowMs + V2H_TICK_MS }
        const st = sup.tick(inp)
        expect(st.fault).toBe("inverter_overload")
        expect(st.contactorCmd).toBe(false)
    })

    it("keeps a bounded fault log with times", () => {
        const l = bootedLoop()
        for (let k = 0; k < 20; k++) {
            l.gridSilent = k % 2 === 0
            l.run(V.readingTimeoutMs + 500)
        }
        expect(l.sup.faultLog.length).toBe(DEVS.persist.faultLogEntries)
        const times = l.sup.faultLog.map(f => f.atMs)
        expect([...times].sort((a, b) => a - b)).toEqual(times)
    })
})

describe("edges (found by mutation testing)", () => {
    const kinds = (l: V2hLoop, ms: number) => {
        const out: string[] = []
        const end = l.nowMs + ms
        while (l.nowMs < end) for (const e of l.tick().events) out.push(`${e.kind}:${e.reason}`)
        return out
    }

    it("charging ramps at the same rate as discharging", () => {
        const l = bootedLoop()
        l.houseW = 1000 // well under the import limit
        expect(l.command({ mode: "setpoint", setpoint_w: -3000 })).toBe("")
        l.until(s => s.commandW < 0, 2000)
        let prev = l.sup.status.commandW
        let maxStep = 0
        for (let k = 0; k < 40; k++) {
            const c = l.tick().commandW
            maxStep = Math.max(maxStep, prev - c)
            prev = c
        }
        expect(maxStep).toBeCloseTo((V.rampUpWPerS * V2H_TICK_MS) / 1000, 6)
        expect(prev).toBe(-3000)
        expect(l.sup.status.state).toBe("charging")
    })

    it("every transition and fault is an event with its reason", () => {
        const l = bootedLoop()
        l.batterySilent = true
        expect(kinds(l, DEVS.socFloor.socTimeoutMs + 500)).toEqual(["fault:battery_stale"])
        l.batterySilent = false
        expect(kinds(l, 500)).toEqual(["fault_cleared:battery_stale"])
        discharging(2000)(l)
        expect(kinds(l, 5000)).toEqual(["mode:setpoint", "state:discharge_requested", "state:contactor_closed"])
        expect(l.command({ mode: "idle" })).toBe("")
        const down = kinds(l, V.contactor.idleOpenDelayMs + 2000)
        expect(down).toEqual(["mode:idle", "state:idle_none", "state:power_at_zero"])
        expect(l.sup.status.stateReason).toBe("power_at_zero")
        discharging(2000)(l)
        l.run(5000)
        l.gridUp = false
        expect(kinds(l, 2000)).toEqual(expect.arrayContaining(["fault:grid_lost", "state:grid_lost:loss_of_grid"]))
    })

    it("a request withdrawn while the contactor closes opens it again; a contactor that never closes latches", () => {
        const l = bootedLoop()
        l.contactorStuckOpen = true
        discharging(2000)(l)
        l.tick()
        expect(l.sup.status.state).toBe("starting")
        expect(l.command({ mode: "idle" })).toBe("")
        const st = l.tick()
        expect(st.state).toBe("idle")
        expect(st.stateReason).toBe("request_withdrawn")
        expect(st.contactorCmd).toBe(false)
        discharging(2000)(l)
        const t = l.until(s => s.fault === "contactor_stuck_open", 5000)
        expect(t).toBeGreaterThanOrEqual(V.contactor.feedbackTimeoutMs)
        expect(t).toBeLessThanOrEqual(V.contactor.feedbackTimeoutMs + 3 * V2H_TICK_MS)
    })

    it("a runaway inverter (power does not fall) latches ramp_down_timeout and the contactor opens at once", () => {
        const l = bootedLoop()
        discharging(2000)(l)
        l.run(5000)
        l.inverterStuckW = 2000
        expect(l.command({ mode: "idle" })).toBe("")
        const t = l.until(s => s.fault === "ramp_down_timeout", V.contactor.idleOpenDelayMs + V.contactor.rampDownTimeoutMs + 2000)
        expect(t).toBeGreaterThanOrEqual(V.contactor.idleOpenDelayMs + V.contactor.rampDownTimeoutMs - V2H_TICK_MS)
        expect(l.sup.status.contactorCmd).toBe(false) // emergency: opened under load
    })

    it("the grid relay: welded when it must open for backup (no island), stuck open when it must close", () => {
        const l = bootedLoop()
        discharging(2000)(l)
        l.run(5000)
        l.gridRelayWelded = true
        l.gridUp = false
        expect(l.until(s => s.fault === "grid_relay_welded", 5000)).toBeGreaterThan(0)
        l.run(3000)
        expect(l.sup.status.islandCmd).toBe(false)
        expect(l.inverterW).toBe(0)
        expect(l.sup.clearFaults(l.nowMs)).toBe("cannot clear faults: the grid relay still reads closed (welded)")
        const s2 = new V2hLoop()
        s2.gridRelayStuckOpen = true
        expect(s2.until(s => s.fault === "grid_relay_stuck_open", 5000)).toBeGreaterThan(0)
    })

    it("a welded outlet relay blocks the reset while it delivers", () => {
        const l = bootedLoop()
        l.outletOn[0] = false
        l.outletW[0] = 400
        l.until(s => s.fault === "outlet1_relay_welded", 5000)
        expect(l.sup.clearFaults(l.nowMs)).toBe("cannot clear faults: outlet 1 still delivers 400 W with its relay off (welded)")
        l.outletW[0] = 0
        l.tick()
        expect(l.sup.clearFaults(l.nowMs)).toBe("")
        expect(l.sup.clearFaults(l.nowMs)).toBe("") // nothing latched: nothing to refuse
    })

    it("restoring a fault checks the code", () => {
        const l = new V2hLoop()
        expect(l.sup.restoreFault("melted", 0)).toBe("fault melted is unknown")
        expect(l.sup.restoreFault("battery_stale", 0)).toBe("fault battery_stale is a condition, not a latched fault")
        expect(l.sup.restoreFault("none", 0)).toBe("")
        expect(l.sup.status.state).toBe("idle")
        expect(l.sup.restoreFault("contactor_welded", 0)).toBe("")
        expect(l.sup.status.state).toBe("fault")
        expect(l.sup.status.stateReason).toBe("restored:contactor_welded")
    })

    it("boundaries: overload ratio, resume temperature, reserve hysteresis", () => {
        const l = bootedLoop()
        discharging(2000)(l)
        l.run(5000)
        const at = (w: number) => ({ ...l.input, nowMs: l.nowMs + V2H_TICK_MS, inverterW: w, inverterAtMs: l.nowMs + V2H_TICK_MS })
        expect(l.sup.tick(at(V.ratedPowerW * V.overloadRatio)).fault).toBe("none")
        l.nowMs += V2H_TICK_MS
        expect(l.sup.tick(at(V.ratedPowerW * V.overloadRatio + 0.5)).fault).toBe("inverter_overload")

        const t = bootedLoop()
        discharging(6000)(t)
        t.inverterTempC = V.derating.stopC
        t.run(500)
        t.inverterTempC = V.derating.resumeBelowC // not below: still stopped
        expect(t.run(1000).targetW).toBe(0)

        const r = bootedLoop()
        r.socPct = V.reserve.defaultPct
        discharging(2000)(r)
        r.run(1000)
        r.socPct = V.reserve.defaultPct + V.socHysteresisPct // not above: still held
        expect(r.run(1000).targetW).toBe(0)
    })
})
