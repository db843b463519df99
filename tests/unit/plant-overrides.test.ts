import { describe, expect, it } from "vitest"
import { plantParams } from "../../sim/engine"
import { DEFAULT_PLANT_PARAMS } from "../../sim/plant/plant"
import { ScenarioError } from "../../sim/scenario/types"
import { validateScenario } from "../../sim/scenario/validate"

describe("a scenario's plant overrides", () => {
    it("replace the named parameters and leave the defaults alone", () => {
        const p = plantParams({ battery: { capacityKWh: 62 } }, "s.json")
        expect(p.battery.capacityKWh).toBe(62)
        expect(DEFAULT_PLANT_PARAMS.battery.capacityKWh).toBe(40)
        expect(p.inverter).toEqual(DEFAULT_PLANT_PARAMS.inverter)
    })

    it("name the file and every bad path", () => {
        let err: unknown
        try {
            plantParams({ batery: { capacityKWh: 62 }, inverter: { ratedPowerW: true, rampWPerSecond: 5 } }, "s.json")
        } catch (e) {
            err = e
        }
        expect(err).toBeInstanceOf(ScenarioError)
        expect((err as ScenarioError).message).toContain("s.json is invalid")
        expect((err as ScenarioError).problems).toEqual([
            "/plant/batery: unknown plant part (allowed: battery, inverter, outlets, site)",
            "/plant/inverter/ratedPowerW = true: must be a number",
            "/plant/inverter/rampWPerSecond = 5: unknown parameter",
        ])
    })
})

describe("a scenario file with bad plant overrides", () => {
    it("is rejected by the loader together with its other problems, before anything runs", () => {
        let err: unknown
        try {
            validateScenario({ name: "x", duration_s: 10, events: [{ at_s: 20, house_w: 1 }], plant: { site: { nominalVoltageV: true } } }, "x.json")
        } catch (e) {
            err = e
        }
        expect((err as ScenarioError).problems).toEqual([
            "/events/0/at_s = 20: must be <= duration_s (10)",
            "/plant/site/nominalVoltageV = true: must be a number",
        ])
    })
})
