import { describe, expect, it } from "vitest"
import { plantParams } from "../../sim/engine"
import { DEFAULT_PLANT_PARAMS } from "../../sim/plant/plant"
import { ScenarioError } from "../../sim/scenario/load"

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
            "/plant/inverter/ratedPowerW = true: unknown parameter or wrong type",
            "/plant/inverter/rampWPerSecond = 5: unknown parameter or wrong type",
        ])
    })
})
