import { describe, expect, it } from "vitest"
import { DEFAULT_BATTERY_PARAMS, capacityAh, currentForPowerA, currentLimitsA, initialBattery, ocvV, stepBattery } from "../../sim/plant/battery"
import { DEFAULT_INVERTER_PARAMS, InverterInputs, InverterParams, InverterState, initialInverter, setContactorWelded, stepInverter } from "../../sim/plant/inverter"
import { DEFAULT_OUTLETS_PARAMS, OutletsState, initialOutlets, setAppliance, setOutletRelayWelded, stepOutlets } from "../../sim/plant/outlets"
import { DEFAULT_SITE_PARAMS, initialSite, stepSite } from "../../sim/plant/site"
import {
    DEFAULT_PLANT_PARAMS,
    PlantInputs,
    PlantState,
    initialPlant,
    setAmbient,
    setFault,
    setGrid,
    setHouse,
    setOutletLoad,
    setPv,
    stepPlant,
} from "../../sim/plant/plant"

const B = DEFAULT_BATTERY_PARAMS
const INV = DEFAULT_INVERTER_PARAMS
const OUT = DEFAULT_OUTLETS_PARAMS
const P = DEFAULT_PLANT_PARAMS

function deepFreeze<T>(x: T): T {
    if (x !== null && typeof x === "object" && !Object.isFrozen(x)) {
        Object.freeze(x)
        for (const v of Object.values(x)) deepFreeze(v)
    }
    return x
}

/** Trapezoidal integral of OCV over SoC, converted to the chemical energy (Wh) between two SoCs. */
function chemicalEnergyWh(fromSocPct: number, toSocPct: number): number {
    const n = 10_000
    const h = (fromSocPct - toSocPct) / n
    let sumV = 0
    for (let i = 0; i <= n; i++) sumV += ocvV(B, toSocPct + i * h) * (i === 0 || i === n ? 0.5 : 1)
    return ((sumV * h) / 100) * capacityAh(B)
}

function plantInputs(over: Partial<PlantInputs> = {}): PlantInputs {
    return { outletRelayCmd: [false, false], inverterCmdW: 0, contactorCmd: false, gridRelayCmd: false, ...over }
}

function runPlant(state: PlantState, dtS: number, steps: number, inputs: PlantInputs, each?: (s: PlantState, prev: PlantState) => void): PlantState {
    let s = state
    for (let i = 0; i < steps; i++) {
        const next = stepPlant(P, s, dtS, inputs)
        each?.(next, s)
        s = next
    }
    return s
}

describe("battery", () => {
    it("OCV rises strictly from 300 V at 0 % to 403 V at 100 %, and its mean is the nominal voltage", () => {
        expect(ocvV(B, 0)).toBe(300)
        expect(ocvV(B, 100)).toBe(403)
        let prev = -Infinity
        for (let soc = 0; soc <= 100; soc += 0.25) {
            const v = ocvV(B, soc)
            expect(v).toBeGreaterThan(prev)
            prev = v
        }
        // So that the chemical energy from full to empty is the rated 40 kWh.
        expect(chemicalEnergyWh(100, 0)).toBeCloseTo(40_000, -1)
        expect(capacityAh(B)).toBeCloseTo(40_000 / 362.9, 6)
    })

    it("solves P = (OCV - I R) I on the low-current root, both ways", () => {
        for (const powerW of [-20_000, -3000, 0, 1630, 6000, 40_000]) {
            const i = currentForPowerA(360, 0.1, powerW)
            expect((360 - i * 0.1) * i).toBeCloseTo(powerW, 6)
            expect(Math.abs(i)).toBeLessThan(360 / (2 * 0.1))
            expect(Math.sign(i)).toBe(Math.sign(powerW))
        }
        expect(currentForPowerA(360, 0, 3600)).toBe(10)
        // Beyond the maximum power OCV^2 / 4R the current is that of the maximum.
        expect(currentForPowerA(360, 0.1, 1e6)).toBe(1800)
    })

    it("clamps the current at the vehicle's limits and reports the clamped power", () => {
        const s0 = initialBattery(B, 60, 25)
        const ocv = ocvV(B, 60)
        const dis = stepBattery(B, s0, 1, { requestedW: 100_000, ambientC: 25 })
        expect(dis.currentA).toBe(125)
        expect(dis.voltageV).toBeCloseTo(ocv - 12.5, 9)
        expect(dis.powerW).toBeCloseTo((ocv - 12.5) * 125, 6)
        expect(dis.requestedW).toBe(100_000)
        const chg = stepBattery(B, s0, 1, { requestedW: -100_000, ambientC: 25 })
        expect(chg.currentA).toBe(-125)
        expect(chg.voltageV).toBeCloseTo(ocv + 12.5, 9)
        expect(chg.socPct).toBeGreaterThan(60)
    })

    it("allows no discharge at or below 5 % and no charge at 100 %", () => {
        expect(currentLimitsA(B, 5)).toEqual({ dischargeA: 0, chargeA: 125 })
        expect(currentLimitsA(B, 5.01)).toEqual({ dischargeA: 125, chargeA: 125 })
        expect(currentLimitsA(B, 100)).toEqual({ dischargeA: 125, chargeA: 0 })
        const low = stepBattery(B, initialBattery(B, 5, 25), 10, { requestedW: 3000, ambientC: 25 })
        expect(low.currentA).toBe(0)
        expect(low.socPct).toBe(5)
        expect(low.maxDischargeCurrentA).toBe(0)
        const full = stepBattery(B, initialBattery(B, 100, 25), 10, { requestedW: -3000, ambientC: 25 })
        expect(full.currentA).toBe(0)
        expect(full.socPct).toBe(100)
    })

    it("integrates SoC as charge through capacityAh", () => {
        // 3 kW for 600 s at 50 %: I from the quadratic, then dSoC = I t / 3600 / Ah * 100.
        const i = currentForPowerA(ocvV(B, 50), B.resistanceOhm, 3000)
        let s = initialBattery(B, 50, 25)
        for (let k = 0; k < 600; k++) s = stepBattery(B, s, 1, { requestedW: 3000, ambientC: 25 })
        // OCV falls slightly as SoC drops, so the current rises slightly: within 0.2 %.
        const expectedDrop = ((i * 600) / 3600 / capacityAh(B)) * 100
        expect(50 - s.socPct).toBeGreaterThan(expectedDrop)
        expect(50 - s.socPct).toBeLessThan(expectedDrop * 1.002)
    })

    it("heats by I^2 R and cools to ambient with its time constant", () => {
        const params = { ...B, thermalTimeConstantS: 600 }
        let s = initialBattery(params, 90, 20)
        for (let k = 0; k < 600; k++) s = stepBattery(params, s, 1, { requestedW: 1e6, ambientC: 20 })
        const riseC = ((125 * 125 * 0.1 * 600) / 270_000) * (1 - Math.exp(-1)) // steady rise x (1 - 1/e)
        expect(s.tempC - 20).toBeCloseTo(riseC, 9)
        let c = initialBattery(params, 50, 40)
        for (let k = 0; k < 600; k++) c = stepBattery(params, c, 1, { requestedW: 0, ambientC: 20 })
        expect(c.tempC).toBeCloseTo(20 + 20 * Math.exp(-1), 9)
    })
})

describe("outlets", () => {
    function runOutlets(s: OutletsState, dtS: number, steps: number, relayCmd: boolean[], each?: (o: OutletsState) => void): OutletsState {
        for (let i = 0; i < steps; i++) {
            s = stepOutlets(OUT, s, dtS, { relayCmd })
            each?.(s)
        }
        return s
    }

    it("closes and opens the relay after its 10 ms delay", () => {
        let s = setAppliance(OUT, initialOutlets(OUT), 0, { loadW: 500 })
        const closedAt: number[] = []
        s = runOutlets(s, 0.001, 30, [true, false], (o) => o.outlets[0].relayClosed && closedAt.push(o.tS))
        expect(closedAt[0]).toBeCloseTo(0.01, 9)
        expect(s.outlets[0].deliveredW).toBe(500)
        const t0 = s.tS
        let openedAt = NaN
        s = runOutlets(s, 0.001, 30, [false, false], (o) => !o.outlets[0].relayClosed && Number.isNaN(openedAt) && (openedAt = o.tS))
        expect(openedAt - t0).toBeCloseTo(0.01, 9)
        expect(s.outlets[0].deliveredW).toBe(0)
        expect(s.outlets[0].demandW).toBe(500) // the appliance still wants power
        expect(s.outlets[1].relayClosed).toBe(false)
    })

    it("reports current = W / V / pf, the outlet voltage, and DC draw = delivered / 0.92", () => {
        let s = runOutlets(initialOutlets(OUT), 0.01, 5, [true, true])
        s = setAppliance(OUT, s, 0, { loadW: 1000, powerFactor: 0.8 })
        s = setAppliance(OUT, s, 1, { loadW: 300 })
        s = runOutlets(s, 0.01, 1, [true, true])
        expect(s.outlets[0].currentA).toBeCloseTo(1000 / 100 / 0.8, 12)
        expect(s.outlets[1].currentA).toBeCloseTo(3, 12)
        expect(s.outlets[0].voltageV).toBe(100)
        expect(s.deliveredW).toBe(1300)
        expect(s.dcDrawW).toBeCloseTo(1300 / 0.92, 9)
        const cut = stepOutlets(OUT, s, 0.01, { relayCmd: [true, true], supplyOn: false })
        expect(cut.deliveredW).toBe(0)
        expect(cut.outlets[0].voltageV).toBe(0)
        expect(cut.outlets[0].demandW).toBe(1000)
    })

    it("inrush lasts inrushS, and plays again when the relay re-closes", () => {
        const dtS = 0.01
        let s = runOutlets(initialOutlets(OUT), dtS, 5, [true, false])
        s = setAppliance(OUT, s, 0, { loadW: 150, inrushW: 450, inrushS: 0.3 }) // fridge compressor 3x for 0.3 s
        expect(s.outlets[0].demandW).toBe(450)
        const inrushSteps = () => {
            let n = 0
            s = runOutlets(s, dtS, 100, [true, false], (o) => o.outlets[0].deliveredW === 450 && n++)
            return n
        }
        expect(inrushSteps() * dtS).toBeCloseTo(0.3, 9)
        expect(s.outlets[0].deliveredW).toBe(150)

        s = runOutlets(s, dtS, 50, [false, false])
        expect(s.outlets[0].deliveredW).toBe(0)
        expect(s.outlets[0].demandW).toBe(150) // no restart while open
        expect(inrushSteps() * dtS).toBeCloseTo(0.3, 9) // restarted by the re-close
        expect(s.outlets[0].deliveredW).toBe(150)

        // Setting the load off, then on again, restarts it too.
        s = setAppliance(OUT, s, 0, { loadW: 0 })
        s = runOutlets(s, dtS, 1, [true, false])
        expect(s.outlets[0].deliveredW).toBe(0)
        s = setAppliance(OUT, s, 0, { loadW: 150, inrushW: 450, inrushS: 0.3 })
        expect(inrushSteps() * dtS).toBeCloseTo(0.3, 9)
    })

    it("averages a step that cuts through the inrush, so its energy is exact", () => {
        let s = runOutlets(initialOutlets(OUT), 0.1, 2, [false, false])
        s = setAppliance(OUT, s, 0, { loadW: 150, inrushW: 450, inrushS: 0.3 })
        const seenW: number[] = []
        // Commanded at the start of a 0.1 s step, the contact closes 10 ms in: 0.09 s of inrush in that step.
        s = runOutlets(s, 0.1, 6, [true, false], (o) => seenW.push(o.outlets[0].deliveredW))
        expect(seenW[0]).toBeCloseTo(150 + 300 * 0.9, 9)
        expect(seenW.slice(1, 3)).toEqual([450, 450])
        expect(seenW[3]).toBeCloseTo(150 + 300 * 0.1, 9)
        expect(seenW.slice(4)).toEqual([150, 150])
        const energyJ = seenW.reduce((a, w) => a + w * 0.1, 0)
        expect(energyJ).toBeCloseTo(150 * 0.6 + 300 * 0.3, 9) // the relay-closed 10 ms is not resolved within the step
    })

    it("a welded relay keeps delivering whatever the command, and opens once the fault clears", () => {
        let s = setAppliance(OUT, initialOutlets(OUT), 1, { loadW: 800 })
        s = setOutletRelayWelded(s, 1, true) // welded while open: the contact closes
        s = runOutlets(s, 0.1, 100, [false, false])
        expect(s.outlets[1].relayClosed).toBe(true)
        expect(s.outlets[1].deliveredW).toBe(800)
        s = setOutletRelayWelded(s, 1, false)
        s = runOutlets(s, 0.005, 1, [false, false])
        expect(s.outlets[1].relayClosed).toBe(true) // still within the 10 ms release time
        s = runOutlets(s, 0.005, 1, [false, false])
        expect(s.outlets[1].relayClosed).toBe(false)
        expect(s.outlets[1].deliveredW).toBe(0)
    })
})

describe("inverter", () => {
    const on: InverterInputs = { powerCmdW: 0, contactorCmd: true, gridRelayCmd: true, islandAllowed: false, gridUp: true, ambientC: 25 }

    function runInv(params: InverterParams, s: InverterState, dtS: number, steps: number, inputs: InverterInputs, each?: (x: InverterState, prev: InverterState) => void) {
        for (let i = 0; i < steps; i++) {
            const next = stepInverter(params, s, dtS, inputs)
            each?.(next, s)
            s = next
        }
        return s
    }
    const ready = () => runInv(INV, initialInverter(INV, 25), 0.01, 10, on)

    function timeTo95PctS(params: InverterParams): number {
        let s = runInv(params, initialInverter(params, 25), 0.01, 10, on)
        for (let k = 1; k < 10_000; k++) {
            s = stepInverter(params, s, 0.01, { ...on, powerCmdW: 6000 })
            if (s.acPowerW >= 0.95 * 6000) return k * 0.01
        }
        return Infinity
    }

    it("reaches 95 % of a 6 kW step when lag and slew limit predict, never faster than the ramp", () => {
        // Slew-limited while the lag would go faster, i.e. until the error is tau x ramp = 1,500 W,
        // then exponential from 1,500 W to 300 W of error.
        const tauS = INV.timeConstantS
        const expectedS = (6000 - tauS * INV.rampWPerS) / INV.rampWPerS + tauS * Math.log((tauS * INV.rampWPerS) / 300)
        expect(expectedS).toBeCloseTo(2.305, 3)
        expect(timeTo95PctS(INV)).toBeGreaterThan(expectedS - 0.02)
        expect(timeTo95PctS(INV)).toBeLessThan(expectedS + 0.02)
        // Without the slew limit the pure lag takes tau ln 20 = 3 tau.
        const lagOnly = timeTo95PctS({ ...INV, rampWPerS: 1e9 })
        expect(lagOnly).toBeGreaterThan(tauS * Math.log(20) - 0.01)
        expect(lagOnly).toBeLessThan(tauS * Math.log(20) + 0.01)
    })

    it("never exceeds its rating or its ramp, both ways, and converts DC with 95 % efficiency", () => {
        let s = ready()
        for (let k = 0; k < 3000; k++) {
            const cmdW = 9000 * Math.sin(k / 40) + (k % 500 < 20 ? -12_000 : 0)
            const next = stepInverter(INV, s, 0.01, { ...on, powerCmdW: cmdW })
            expect(Math.abs(next.acPowerW)).toBeLessThanOrEqual(6000)
            expect(Math.abs(next.acPowerW - s.acPowerW)).toBeLessThanOrEqual(3000 * 0.01 + 1e-9)
            s = next
        }
        // The lag approaches the clamped command (the rating) from below.
        const dis = runInv(INV, ready(), 0.1, 200, { ...on, powerCmdW: 10_000 })
        expect(dis.acPowerW).toBeCloseTo(6000, 6)
        expect(dis.dcPowerW).toBeCloseTo(6000 / 0.95, 6)
        const chg = runInv(INV, ready(), 0.1, 200, { ...on, powerCmdW: -10_000 })
        expect(chg.acPowerW).toBeCloseTo(-6000, 6)
        expect(chg.dcPowerW).toBeCloseTo(-6000 * 0.95, 6)
    })

    it("outputs 0 at once when the contactor opens, and never with it open", () => {
        let s = runInv(INV, ready(), 0.01, 1000, { ...on, powerCmdW: 3000 })
        expect(s.acPowerW).toBeCloseTo(3000, 3)
        s = runInv(INV, s, 0.01, 4, { ...on, powerCmdW: 3000, contactorCmd: false })
        expect(s.contactorClosed).toBe(true) // 40 ms < 50 ms contactor release
        expect(s.acPowerW).toBeGreaterThan(2990)
        s = stepInverter(INV, s, 0.01, { ...on, powerCmdW: 3000, contactorCmd: false })
        expect(s.contactorClosed).toBe(false)
        expect(s.acPowerW).toBe(0)
        expect(s.dcPowerW).toBe(0)
        runInv(INV, s, 0.1, 100, { ...on, powerCmdW: 3000, contactorCmd: false }, (x) => expect(x.acPowerW).toBe(0))
    })

    it("needs the grid relay on a live grid unless islanding is allowed; a welded contactor still delivers", () => {
        const relayOpen = runInv(INV, ready(), 0.1, 50, { ...on, powerCmdW: 2000, gridRelayCmd: false })
        expect(relayOpen.gridRelayClosed).toBe(false)
        expect(relayOpen.acPowerW).toBe(0)
        // Islanded it is grid-forming: it supplies the house's demand, up to its command.
        const island = runInv(INV, ready(), 0.1, 100, { ...on, powerCmdW: 2000, gridRelayCmd: false, islandAllowed: true, islandDemandW: 1200 })
        expect(island.acPowerW).toBeCloseTo(1200, 3)
        const islandCapped = runInv(INV, ready(), 0.1, 100, { ...on, powerCmdW: 2000, gridRelayCmd: false, islandAllowed: true, islandDemandW: 5000 })
        expect(islandCapped.acPowerW).toBeCloseTo(2000, 3)
        const islandNoCharge = runInv(INV, ready(), 0.1, 100, { ...on, powerCmdW: -2000, gridRelayCmd: false, islandAllowed: true, islandDemandW: 800 })
        expect(islandNoCharge.acPowerW).toBe(0)
        const deadGrid = runInv(INV, ready(), 0.1, 50, { ...on, powerCmdW: 2000, gridUp: false })
        expect(deadGrid.gridRelayClosed).toBe(true)
        expect(deadGrid.acPowerW).toBe(0) // anti-islanding
        const welded = runInv(INV, setContactorWelded(ready(), true), 0.1, 100, { ...on, powerCmdW: 2000, contactorCmd: false })
        expect(welded.contactorClosed).toBe(true)
        expect(welded.acPowerW).toBeCloseTo(2000, 3)
    })

    it("heats toward ambient + 40 C at 6 kW with a 10 min time constant", () => {
        const s = runInv(INV, ready(), 1, 1800, { ...on, powerCmdW: 6000 })
        const expectedC = 25 + 40 * (1 - Math.exp(-1800 / 600)) // ~63 C; the 2 s ramp is negligible
        expect(s.tempC).toBeGreaterThan(expectedC - 0.3)
        expect(s.tempC).toBeLessThan(expectedC + 0.01)
        const cooled = runInv(INV, s, 1, 1800, { ...on, powerCmdW: 0 })
        // Pure decay, plus a little heat while the output ramps down over 2 s.
        const decayedC = 25 + (s.tempC - 25) * Math.exp(-3)
        expect(cooled.tempC).toBeGreaterThan(decayedC)
        expect(cooled.tempC).toBeLessThan(decayedC + 0.01)
    })
})

describe("site", () => {
    const S = DEFAULT_SITE_PARAMS
    it("grid import = house - PV - inverter while connected (negative = export)", () => {
        const s = initialSite(S, { houseW: 2000, pvW: 500, gridUp: true, ambientC: 25 })
        expect(stepSite(S, s, 1, { inverterAcW: 1000, gridRelayClosed: true }).gridW).toBe(500)
        expect(stepSite(S, { ...s, pvW: 3000 }, 1, { inverterAcW: 1000, gridRelayClosed: true }).gridW).toBe(-2000)
        expect(stepSite(S, s, 1, { inverterAcW: -3000, gridRelayClosed: true }).gridW).toBe(4500) // charging the car
        const r = stepSite(S, s, 1, { inverterAcW: 0, gridRelayClosed: true })
        expect([r.voltageV, r.frequencyHz, r.unservedW, r.curtailedW]).toEqual([100, 60, 0, 0])
    })

    it("grid down: no grid power, the shortfall is unserved and the surplus curtailed", () => {
        const s = initialSite(S, { houseW: 2000, pvW: 500, gridUp: false, ambientC: 25 })
        const short = stepSite(S, s, 1, { inverterAcW: 1000, gridRelayClosed: true })
        expect([short.gridW, short.unservedW, short.curtailedW, short.voltageV, short.frequencyHz]).toEqual([0, 500, 0, 0, 0])
        const surplus = stepSite(S, s, 1, { inverterAcW: 2500, gridRelayClosed: false })
        expect([surplus.gridW, surplus.unservedW, surplus.curtailedW]).toEqual([0, 0, 1000])
    })
})

describe("plant", () => {
    it("conserves energy: SoC drop x OCV = outlets / 0.92 + inverter / 0.95 + I^2 R losses", () => {
        let s = initialPlant(P, { socPct: 80, houseW: 1500, pvW: 0, gridUp: true, tempC: 25 })
        s = setOutletLoad(P, s, 0, 1000)
        s = setOutletLoad(P, s, 1, 150, 450, 0.3)
        const inputs = plantInputs({ outletRelayCmd: [true, true], inverterCmdW: 3000, contactorCmd: true, gridRelayCmd: true })
        const dtS = 0.1
        let outletsWh = 0, inverterWh = 0, terminalWh = 0, lossWh = 0
        s = runPlant(s, dtS, 18_000, inputs, (x) => {
            outletsWh += (x.outlets.deliveredW * dtS) / 3600
            inverterWh += (x.inverter.acPowerW * dtS) / 3600
            terminalWh += (x.battery.powerW * dtS) / 3600
            lossWh += (x.battery.currentA ** 2 * B.resistanceOhm * dtS) / 3600
        })
        expect(outletsWh).toBeCloseTo((1150 * 1800) / 3600, -1) // 575 Wh (the inrush adds 0.03 Wh)
        expect(inverterWh).toBeGreaterThan(1498)
        expect(terminalWh).toBeCloseTo(outletsWh / 0.92 + inverterWh / 0.95, 6)
        const chemWh = chemicalEnergyWh(80, s.battery.socPct)
        expect(Math.abs(chemWh - (terminalWh + lossWh)) / chemWh).toBeLessThan(1e-3)
        expect(s.site.gridW).toBeCloseTo(1500 - 3000, 3)
    })

    it("1.5 kW at the outlets for 1 h takes ~4 % of a 40 kWh battery", () => {
        let s = initialPlant(P, { socPct: 50, houseW: 0, pvW: 0, gridUp: true, tempC: 25 })
        s = setOutletLoad(P, s, 0, 1500)
        s = runPlant(s, 1, 3600, plantInputs({ outletRelayCmd: [true, false] }))
        const dcW = 1500 / 0.92
        const midSocPct = 50 - 2.05
        const currentA = currentForPowerA(ocvV(B, midSocPct), B.resistanceOhm, dcW)
        const expectedDropPct = (currentA / capacityAh(B)) * 100 // 1 h
        expect(expectedDropPct).toBeGreaterThan(3.9)
        expect(expectedDropPct).toBeLessThan(4.2)
        expect(50 - s.battery.socPct).toBeCloseTo(expectedDropPct, 2)
    })

    it("cuts the outlets and the inverter's discharge when the vehicle reaches its 5 % floor", () => {
        let s = initialPlant(P, { socPct: 5.05, houseW: 1000, pvW: 0, gridUp: true, tempC: 25 })
        s = setOutletLoad(P, s, 0, 1000)
        const inputs = plantInputs({ outletRelayCmd: [true, false], inverterCmdW: 2000, contactorCmd: true, gridRelayCmd: true })
        s = runPlant(s, 1, 600, inputs)
        expect(s.battery.maxDischargeCurrentA).toBe(0)
        expect(s.battery.socPct).toBeLessThanOrEqual(5)
        expect(s.battery.socPct).toBeGreaterThan(4.99)
        expect(s.outlets.deliveredW).toBe(0)
        expect(s.outlets.outlets[0].demandW).toBe(1000)
        expect(s.inverter.acPowerW).toBe(0)
        expect(s.site.gridW).toBe(1000)
    })

    it("grid down: anti-islanding stops the inverter; in island mode it serves the house, the rest unserved", () => {
        let s = initialPlant(P, { socPct: 70, houseW: 3000, pvW: 400, gridUp: true, tempC: 25 })
        const inputs = plantInputs({ inverterCmdW: 2000, contactorCmd: true, gridRelayCmd: true })
        s = runPlant(s, 0.1, 100, inputs)
        expect(s.site.gridW).toBeCloseTo(600, 3)
        s = setGrid(s, { up: false })
        s = stepPlant(P, s, 0.1, inputs)
        expect(s.inverter.acPowerW).toBe(0)
        expect([s.site.gridW, s.site.unservedW, s.site.voltageV]).toEqual([0, 2600, 0])
        s = runPlant(s, 0.1, 100, { ...inputs, gridRelayCmd: false, islandCmd: true })
        expect(s.inverter.gridRelayClosed).toBe(false)
        expect(s.site.gridW).toBe(0)
        expect(s.site.unservedW).toBeCloseTo(3000 - 400 - 2000, 3)
        s = setGrid(s, { up: true, voltageV: 103, frequencyHz: 59.8 })
        s = runPlant(s, 0.1, 10, inputs)
        expect([s.site.voltageV, s.site.frequencyHz, s.site.unservedW]).toEqual([103, 59.8, 0])
    })

    it("faults by name: welded outlet relay delivers, welded grid relay and contactor report closed", () => {
        let s = initialPlant(P, { socPct: 70, houseW: 0, pvW: 0, gridUp: true, tempC: 25 })
        s = setOutletLoad(P, s, 1, 600)
        s = setFault(s, "outlet2_relay_welded", true)
        s = setFault(s, "grid_relay_welded", true)
        s = setFault(s, "contactor_welded", true)
        s = runPlant(s, 0.1, 10, plantInputs())
        expect(s.outlets.outlets[1].deliveredW).toBe(600)
        expect(s.outlets.outlets[0].relayClosed).toBe(false)
        expect(s.inverter.contactorClosed && s.inverter.gridRelayClosed).toBe(true)
        s = setFault(s, "outlet2_relay_welded", false)
        s = runPlant(s, 0.1, 1, plantInputs())
        expect(s.outlets.outlets[1].deliveredW).toBe(0)
        expect(() => setFault(s, "outlet3_relay_welded", true)).toThrow(RangeError)
    })

    it("is deterministic: the same scenario twice gives identical states", () => {
        const scenario = () => {
            let s = initialPlant(P, { socPct: 60, houseW: 1200, pvW: 800, gridUp: true, tempC: 20 })
            const trace: PlantState[] = []
            for (let k = 0; k < 2000; k++) {
                if (k === 100) s = setOutletLoad(P, s, 0, 200, 600, 0.3)
                if (k === 500) s = setHouse(setPv(setAmbient(s, 30), 100), 2500)
                if (k === 900) s = setGrid(s, { up: false })
                if (k === 1500) s = setFault(s, "outlet1_relay_welded", true)
                s = stepPlant(P, s, 0.05, plantInputs({ outletRelayCmd: [k % 400 < 300, true], inverterCmdW: 4000 * Math.sin(k / 100), contactorCmd: true, gridRelayCmd: k < 950, islandCmd: k >= 950 }))
                if (k % 50 === 0) trace.push(s)
            }
            return trace
        }
        const a = scenario()
        const b = scenario()
        expect(b).toStrictEqual(a)
        expect(JSON.stringify(b)).toBe(JSON.stringify(a))
        expect(a[a.length - 1].site.ambientC).toBe(30)
    })

    it("is pure: frozen params, states and inputs are accepted and left unchanged", () => {
        const params = deepFreeze(structuredClone(DEFAULT_PLANT_PARAMS))
        let s = initialPlant(params, { socPct: 60, houseW: 1200, pvW: 800, gridUp: true, tempC: 20 })
        s = runPlant(s, 0.1, 20, plantInputs({ outletRelayCmd: [true, true], contactorCmd: true, gridRelayCmd: true }))
        s = deepFreeze(setOutletLoad(params, s, 0, 300, 900, 0.3))
        const inputs = deepFreeze(plantInputs({ outletRelayCmd: [false, true], inverterCmdW: 2500, contactorCmd: true, gridRelayCmd: true }))
        const before = structuredClone(s)
        const next = stepPlant(params, s, 0.1, inputs)
        for (const f of ["outlet1_relay_welded", "contactor_welded", "grid_relay_welded"] as const) setFault(s, f, true)
        setOutletLoad(params, s, 1, 100)
        setGrid(setHouse(setPv(setAmbient(s, 0), 0), 0), { up: false })
        expect(s).toStrictEqual(before)
        expect(next).not.toBe(s)
        expect(next.tS).toBeCloseTo(s.tS + 0.1, 12)
        expect(params).toStrictEqual(DEFAULT_PLANT_PARAMS)
        expect(inputs.outletRelayCmd).toEqual([false, true])
    })
})
