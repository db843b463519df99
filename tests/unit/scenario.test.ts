import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import Ajv from "ajv"
import { afterAll, describe, expect, it } from "vitest"
import { DEVS_JSON, DEVS_SCHEMA } from "../../scripts/lib/devs-config"
import { COMMAND_KEYS, V2H_MODES } from "../../src/core/hems-command"
import { enumNames, serviceSpec } from "../../sim/service-specs"
import { jsonErrorOffset } from "../../scripts/lib/schema-errors"
import { loadScenario } from "../../sim/scenario/load"
import {
    EVENT_ACTIONS,
    EXPECTATION_CHECKS,
    FAULT_NAMES,
    HEMS_MODES,
    ScenarioError,
    TRACE_COLUMNS,
    TRIP_REASONS,
    type Scenario,
} from "../../sim/scenario/types"
import { SCENARIO_SCHEMA, validateScenario } from "../../sim/scenario/validate"

const MINIMAL = { name: "minimal", duration_s: 600 }
const schema = JSON.parse(readFileSync(SCENARIO_SCHEMA, "utf8"))
const devs = () => {
    const { $schema, ...body } = JSON.parse(readFileSync(DEVS_JSON, "utf8"))
    return body
}

function problemsOf(value: unknown): string[] {
    try {
        validateScenario(value, "test.json")
    } catch (err) {
        expect(err).toBeInstanceOf(ScenarioError)
        expect((err as ScenarioError).file).toBe("test.json")
        return (err as ScenarioError).problems
    }
    return []
}

/** A valid minimal scenario plus `extra` top-level keys. */
const withKeys = (extra: Record<string, unknown>) => ({ ...MINIMAL, ...extra })
const withEvents = (...events: unknown[]) => withKeys({ events })
const withExpect = (...expect: unknown[]) => withKeys({ expect })

const tmp = mkdtempSync(join(tmpdir(), "scenario-test-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
function writeTmp(name: string, text: string): string {
    const path = join(tmp, name)
    writeFileSync(path, text)
    return path
}

describe("scenario: valid files and normalisation", () => {
    it("fills every default of a minimal scenario", () => {
        const s = validateScenario(MINIMAL, "min.json")
        expect(s).toEqual<Scenario>({
            file: "min.json",
            name: "minimal",
            description: "",
            durationS: 600,
            seed: 1,
            traceIntervalMs: 100,
            config: devs(),
            configOverride: {},
            plant: {},
            initial: { socPct: 80, houseW: 500, pvW: 0, gridUp: true, tempC: 25, outletSwitchOn: true, timeOfDayS: 0 },
            events: [],
            expectations: [],
        })
    })

    it("takes explicit top-level values and initial state", () => {
        const s = validateScenario(
            withKeys({
                $schema: "./scenario.schema.json",
                description: "d",
                seed: 0,
                trace_interval_ms: 10,
                plant: { battery: { capacityKWh: 62 }, inverter: { ratedPowerW: 4000 } },
                initial: { soc_pct: 0, house_w: 0, pv_w: 3000, grid_up: false, temp_c: -40, outlet_switch: "off", time_of_day: "06:30" },
            }),
            "x.json",
        )
        expect(s.description).toBe("d")
        expect(s.seed).toBe(0)
        expect(s.traceIntervalMs).toBe(10)
        expect(s.plant).toEqual({ battery: { capacityKWh: 62 }, inverter: { ratedPowerW: 4000 } })
        expect(s.initial).toEqual({ socPct: 0, houseW: 0, pvW: 3000, gridUp: false, tempC: -40, outletSwitchOn: false, timeOfDayS: 23400 })
    })

    it("sorts events by at_s, keeping file order for equal times", () => {
        const s = validateScenario(
            withEvents(
                { at_s: 30, house_w: 1 },
                { at_s: 10, house_w: 2 },
                { at_s: 20, house_w: 3 },
                { at_s: 10, house_w: 4 },
                { at_s: 0, house_w: 5 },
                { at_s: 10, house_w: 6 },
            ),
            "x.json",
        )
        expect(s.events.map(e => [e.atS, e.index])).toEqual([
            [0, 4],
            [10, 1],
            [10, 3],
            [10, 5],
            [20, 2],
            [30, 0],
        ])
    })

    it("normalises every event kind", () => {
        const s = validateScenario(
            withEvents(
                { at_s: 1, outlet: 1, load_w: 1200 },
                { at_s: 2, outlet: 2, load_w: 800, inrush_w: 2400, inrush_s: 0.5 },
                { at_s: 3, outlet_switch: "off" },
                { at_s: 4, outlet_switch: "on" },
                { at_s: 5, hems: { mode: "setpoint", setpoint_w: -3000 } },
                {
                    at_s: 6,
                    hems: { mode: "self_consumption", soc_floor_pct: 20, reserve_pct: 30, charge_limit_pct: 90, outlet_priority: 2 },
                },
                { at_s: 7, house_w: 1500 },
                { at_s: 8, pv_w: 4000 },
                { at_s: 9, temp_c: 95 },
                { at_s: 10, grid: "down" },
                { at_s: 11, grid: "up", grid_v: 101.5, grid_hz: 50 },
                { at_s: 12, grid: "up" },
                { at_s: 13, fault: "estop" },
                { at_s: 14, clear_fault: "outlet1_meter_stale" },
                { at_s: 15, inverter_temp_c: 80 },
                { at_s: 16, reset_faults: true },
                { at_s: 17, hems: { reserve_pct: 40 } },
            ),
            "x.json",
        )
        expect(s.events).toEqual([
            { kind: "outlet_load", atS: 1, index: 0, outlet: 1, loadW: 1200, inrushW: 0, inrushS: 0 },
            { kind: "outlet_load", atS: 2, index: 1, outlet: 2, loadW: 800, inrushW: 2400, inrushS: 0.5 },
            { kind: "outlet_switch", atS: 3, index: 2, on: false },
            { kind: "outlet_switch", atS: 4, index: 3, on: true },
            { kind: "hems", atS: 5, index: 4, command: { mode: "setpoint", setpoint_w: -3000 }, json: '{"mode":"setpoint","setpoint_w":-3000}' },
            {
                kind: "hems",
                atS: 6,
                index: 5,
                command: { mode: "self_consumption", soc_floor_pct: 20, reserve_pct: 30, charge_limit_pct: 90, outlet_priority: 2 },
                json: '{"mode":"self_consumption","soc_floor_pct":20,"reserve_pct":30,"charge_limit_pct":90,"outlet_priority":2}',
            },
            { kind: "house", atS: 7, index: 6, w: 1500 },
            { kind: "pv", atS: 8, index: 7, w: 4000 },
            { kind: "temp", atS: 9, index: 8, tempC: 95 },
            { kind: "grid", atS: 10, index: 9, up: false },
            { kind: "grid", atS: 11, index: 10, up: true, voltageV: 101.5, frequencyHz: 50 },
            { kind: "grid", atS: 12, index: 11, up: true },
            { kind: "fault", atS: 13, index: 12, fault: "estop", active: true },
            { kind: "fault", atS: 14, index: 13, fault: "outlet1_meter_stale", active: false },
            { kind: "inverter_temp", atS: 15, index: 14, tempC: 80 },
            { kind: "reset_faults", atS: 16, index: 15 },
            { kind: "hems", atS: 17, index: 16, command: { reserve_pct: 40 }, json: '{"reserve_pct":40}' },
        ])
    })

    it("accepts events at t = 0 and t = duration_s", () => {
        const s = validateScenario(withEvents({ at_s: 600, pv_w: 0 }, { at_s: 0, pv_w: 1 }), "x.json")
        expect(s.events.map(e => e.atS)).toEqual([0, 600])
    })

    it("normalises every expectation form, with default windows and generated names", () => {
        const s = validateScenario(
            withExpect(
                { column: "outlet1_w", max_le: 1500 },
                { name: "soc stays up", column: "soc_pct", min_ge: 30, from_s: 10, to_s: 20 },
                { column: "state", always_eq: "idle", to_s: 5 },
                { column: "outlet2_on", final_eq: 0 },
                { column: "load_ratio", mean_between: [0.2, 0.8], from_s: 60 },
                { column: "outlet1_reason", reaches: "overload_instant", by_s: 2 },
                { trip: { outlet: 2, reason: "shed" }, between_s: [30, 40] },
                { no_trip: true, from_s: 100 },
            ),
            "x.json",
        )
        expect(s.expectations).toEqual([
            { kind: "max_le", index: 0, name: "outlet1_w <= 1500 over 0..600 s", column: "outlet1_w", fromS: 0, toS: 600, max: 1500 },
            { kind: "min_ge", index: 1, name: "soc stays up", column: "soc_pct", fromS: 10, toS: 20, min: 30 },
            { kind: "always_eq", index: 2, name: 'state == "idle" over 0..5 s', column: "state", fromS: 0, toS: 5, value: "idle" },
            { kind: "final_eq", index: 3, name: "outlet2_on == 0 at 600 s", column: "outlet2_on", fromS: 0, toS: 600, value: 0 },
            {
                kind: "mean_between",
                index: 4,
                name: "mean load_ratio in 0.2..0.8 over 60..600 s",
                column: "load_ratio",
                fromS: 60,
                toS: 600,
                lo: 0.2,
                hi: 0.8,
            },
            {
                kind: "reaches",
                index: 5,
                name: 'outlet1_reason reaches "overload_instant" by 2 s',
                column: "outlet1_reason",
                value: "overload_instant",
                byS: 2,
            },
            { kind: "trip", index: 6, name: "outlet 2 trips (shed) within 30..40 s", outlet: 2, reason: "shed", fromS: 30, toS: 40 },
            { kind: "no_trip", index: 7, name: "no trip over 100..600 s", fromS: 100, toS: 600 },
        ])
    })

    it("merges a config override onto devs.json", () => {
        const s = validateScenario(withKeys({ config: { outlets: { budgetPowerW: 1000 }, socFloor: { defaultPct: 50 } } }), "x.json")
        const expected = devs()
        expected.outlets.budgetPowerW = 1000
        expected.socFloor.defaultPct = 50
        expect(s.config).toEqual(expected)
        expect(s.configOverride).toEqual({ outlets: { budgetPowerW: 1000 }, socFloor: { defaultPct: 50 } })
    })

    it("checks outlet numbers against the merged config's outlets.count", () => {
        const s = validateScenario(withKeys({ config: { outlets: { count: 2 } }, events: [{ at_s: 1, outlet: 2, load_w: 5 }] }), "x.json")
        expect(s.events).toHaveLength(1)
        expect(
            problemsOf(
                withKeys({
                    config: { outlets: { count: 1 } },
                    events: [{ at_s: 1, outlet: 2, load_w: 5 }, { at_s: 2, hems: { mode: "idle", outlet_priority: 2 } }],
                    expect: [{ trip: { outlet: 2, reason: "shed" }, between_s: [0, 1] }],
                }),
            ),
        ).toEqual([
            "/events/0/outlet = 2: outlet 2 is not configured (config outlets.count = 1)",
            "/events/1/hems/outlet_priority = 2: outlet 2 is not configured (config outlets.count = 1)",
            "/expect/0/trip/outlet = 2: outlet 2 is not configured (config outlets.count = 1)",
        ])
    })

    it("accepts events, faults and columns of every configured outlet, and names an outlet that is not configured", () => {
        const three = {
            config: { outlets: { count: 3 } },
            events: [
                { at_s: 1, outlet: 3, load_w: 5 },
                { at_s: 2, fault: "outlet3_relay_welded" },
                { at_s: 3, clear_fault: "outlet3_meter_stale" },
            ],
            expect: [{ column: "outlet3_w", max_le: 1500 }, { trip: { outlet: 3, reason: "shed" }, between_s: [0, 1] }],
        }
        const s = validateScenario(withKeys(three), "x.json")
        expect(s.events.map(e => e.kind)).toEqual(["outlet_load", "fault", "fault"])
        expect(s.expectations).toHaveLength(2)
        expect(problemsOf(withKeys({ ...three, config: { outlets: { count: 2 } } }))).toEqual([
            "/events/0/outlet = 3: outlet 3 is not configured (config outlets.count = 2)",
            '/events/1/fault = "outlet3_relay_welded": outlet 3 is not configured (config outlets.count = 2)',
            '/events/2/clear_fault = "outlet3_meter_stale": outlet 3 is not configured (config outlets.count = 2)',
            '/expect/0/column = "outlet3_w": outlet 3 is not configured (config outlets.count = 2)',
            "/expect/1/trip/outlet = 3: outlet 3 is not configured (config outlets.count = 2)",
        ])
        expect(problemsOf(withKeys({ ...three, config: { outlets: { count: 4 } }, plant: { outlets: { count: 3 } } }))).toEqual([
            "/plant/outlets/count = 3: must equal config outlets.count (4); leave it out, the plant follows the config",
        ])
    })

    it("neither changes its input nor shares objects with it", () => {
        const input = withKeys({
            config: { outlets: { budgetPowerW: 1000 } },
            plant: { site: { nominalVoltageV: 200 } },
            events: [{ at_s: 5, hems: { mode: "idle" } }, { at_s: 1, house_w: 3 }],
        })
        const copy = structuredClone(input)
        const s = validateScenario(input, "x.json")
        expect(input).toEqual(copy)
        s.plant.site.nominalVoltageV = 1
        ;(s.configOverride as any).outlets.budgetPowerW = 1
        expect(input).toEqual(copy)
    })

    it("loads a file, skipping a UTF-8 BOM", () => {
        const path = writeTmp("ok.json", "\uFEFF" + JSON.stringify(withEvents({ at_s: 1, pv_w: 10 })))
        const s = loadScenario(path)
        expect(s.file).toBe(path)
        expect(s.events).toEqual([{ kind: "pv", atS: 1, index: 0, w: 10 }])
    })

    it("the example in docs/scenarios.md is valid", () => {
        const readme = readFileSync(join(SCENARIO_SCHEMA, "..", "..", "..", "docs", "scenarios.md"), "utf8")
        const example = /```json\n([\s\S]*?)```/.exec(readme)[1]
        const s = validateScenario(JSON.parse(example), "docs/scenarios.md")
        expect(s.events.map(e => e.kind)).toEqual(["outlet_load", "outlet_load", "hems", "grid"])
        expect(s.expectations.map(e => e.kind)).toEqual(["no_trip", "trip", "always_eq", "min_ge"])
    })
})

describe("scenario: problems", () => {
    it("rejects a non-object scenario", () => {
        expect(problemsOf([1])).toEqual(["/ = [1]: must be object"])
        expect(problemsOf(null)).toEqual(["/ = null: must be object"])
    })

    it("names missing required keys", () => {
        expect(problemsOf({})).toEqual(["/name: required key is missing", "/duration_s: required key is missing"])
    })

    it("names an unknown top-level key and lists the allowed ones", () => {
        expect(problemsOf(withKeys({ durationS: 5 }))).toEqual([
            "/durationS: unknown key (allowed: $schema, name, description, duration_s, seed, trace_interval_ms, config, plant, initial, events, expect)",
        ])
    })

    it("checks top-level ranges and types", () => {
        expect(problemsOf({ name: "", duration_s: 604801, seed: -1, trace_interval_ms: 5.5 })).toEqual([
            '/name = "": must NOT have fewer than 1 characters',
            "/duration_s = 604801: must be <= 604800",
            "/seed = -1: must be >= 0",
            "/trace_interval_ms = 5.5: must be integer",
            "/trace_interval_ms = 5.5: must be >= 10",
        ])
        expect(problemsOf({ name: "x", duration_s: 0, events: {}, expect: "no" })).toEqual([
            "/duration_s = 0: must be > 0",
            "/events = {}: must be array",
            '/expect = "no": must be array',
        ])
    })

    it("checks initial state", () => {
        expect(problemsOf(withKeys({ initial: { soc_pct: 101, temp_c: 61, grid_up: "yes", outlet_switch: true, soc: 1 } }))).toEqual([
            "/initial/soc: unknown key (allowed: soc_pct, house_w, pv_w, grid_up, temp_c, outlet_switch, time_of_day)",
            "/initial/soc_pct = 101: must be <= 100",
            '/initial/grid_up = "yes": must be boolean',
            "/initial/temp_c = 61: must be <= 60",
            "/initial/outlet_switch = true: must be string",
            '/initial/outlet_switch = true: must be one of "on", "off"',
        ])
    })

    it("checks plant overrides: shape by the schema, names and types against the plant models", () => {
        expect(problemsOf(withKeys({ plant: { battery: { capacityKWh: "big" }, house: 5 } }))).toEqual([
            '/plant/battery/capacityKWh = "big": must be number or boolean',
            "/plant/house = 5: must be object",
        ])
        expect(problemsOf(withKeys({ plant: { battery: { capacityWh: 40000 } } }))).toEqual([
            "/plant/battery/capacityWh = 40000: unknown parameter",
        ])
    })

    it("names an unknown key inside an event with the keys that event allows", () => {
        expect(problemsOf(withEvents({ at_s: 1, house_w: 100, ramp_s: 5 }))).toEqual([
            "/events/0/ramp_s: unknown key (allowed: at_s, house_w)",
        ])
        expect(problemsOf(withEvents({ at_s: 1, outlet: 1, load_w: 100, grid_v: 100 }))).toEqual([
            "/events/0/grid_v: unknown key (allowed: at_s, outlet, load_w, inrush_w, inrush_s)",
        ])
        expect(problemsOf(withEvents({ at_s: 1, hems: { mode: "idle", power_w: 5 } }))).toEqual([
            "/events/0/hems/power_w: unknown key (allowed: mode, setpoint_w, soc_floor_pct, reserve_pct, charge_limit_pct, outlet_priority)",
        ])
    })

    it("requires exactly one action per event", () => {
        expect(problemsOf(withEvents({ at_s: 1, pv_w: 5 }, { at_s: 2, outlet_switch: "on", house_w: 3 }))).toEqual([
            "/events/1: exactly one action expected, found outlet_switch and house_w",
        ])
        expect(problemsOf(withEvents({ at_s: 1, fault: "estop", grid: "down", temp_c: 20 }))).toEqual([
            "/events/0: exactly one action expected, found fault, grid and temp_c",
        ])
        expect(problemsOf(withEvents({ at_s: 1 }))).toEqual([
            "/events/0: no action (expected exactly one of: outlet, outlet_switch, hems, house_w, pv_w, temp_c, grid, fault, clear_fault, inverter_temp_c, reset_faults, firmware_restart)",
        ])
    })

    it("still checks every key of an event whose action count is wrong", () => {
        expect(problemsOf(withEvents({ house_w: -1, pv_w: 5, colour: "red" }))).toEqual([
            "/events/0: exactly one action expected, found house_w and pv_w",
            "/events/0/at_s: required key is missing",
            "/events/0/colour: unknown key (allowed: at_s, outlet, load_w, inrush_w, inrush_s, outlet_switch, hems, house_w, pv_w, temp_c, grid, grid_v, grid_hz, fault, clear_fault, inverter_temp_c, reset_faults, firmware_restart)",
            "/events/0/house_w = -1: must be >= 0",
        ])
        expect(problemsOf(withEvents({ at_s: 1, load_w: 100 }))).toEqual([
            "/events/0: no action (expected exactly one of: outlet, outlet_switch, hems, house_w, pv_w, temp_c, grid, fault, clear_fault, inverter_temp_c, reset_faults, firmware_restart)",
        ])
    })

    it("rejects an event that is not an object", () => {
        expect(problemsOf(withEvents("at 5 s: kettle"))).toEqual(['/events/0 = "at 5 s: kettle": must be object'])
    })

    it("checks at_s", () => {
        expect(problemsOf(withEvents({ at_s: 601, pv_w: 5 }))).toEqual(["/events/0/at_s = 601: must be <= duration_s (600)"])
        expect(problemsOf(withEvents({ at_s: -1, pv_w: 5 }))).toEqual(["/events/0/at_s = -1: must be >= 0"])
        expect(problemsOf(withEvents({ pv_w: 5 }))).toEqual(["/events/0/at_s: required key is missing"])
    })

    it("checks outlet events", () => {
        expect(problemsOf(withEvents({ at_s: 1, outlet: 3, load_w: 5 }))).toEqual(["/events/0/outlet = 3: outlet 3 is not configured (config outlets.count = 2)"])
        expect(problemsOf(withEvents({ at_s: 1, outlet: 5, load_w: 5 }))).toEqual(["/events/0/outlet = 5: must be <= 4"])
        expect(problemsOf(withEvents({ at_s: 1, outlet: 0, load_w: 5 }))).toEqual(["/events/0/outlet = 0: must be >= 1"])
        expect(problemsOf(withEvents({ at_s: 1, outlet: 1.5, load_w: 5 }))).toEqual(["/events/0/outlet = 1.5: must be integer"])
        expect(problemsOf(withEvents({ at_s: 1, outlet: 1 }))).toEqual(["/events/0/load_w: required key is missing"])
        expect(problemsOf(withEvents({ at_s: 1, outlet: 1, load_w: -5 }))).toEqual(["/events/0/load_w = -5: must be >= 0"])
    })

    it("wants inrush_w and inrush_s together, within range", () => {
        expect(problemsOf(withEvents({ at_s: 1, outlet: 1, load_w: 5, inrush_w: 4000 }))).toEqual([
            "/events/0/inrush_s: required when inrush_w is given",
        ])
        expect(problemsOf(withEvents({ at_s: 1, outlet: 1, load_w: 5, inrush_s: 1 }))).toEqual([
            "/events/0/inrush_w: required when inrush_s is given",
        ])
        expect(problemsOf(withEvents({ at_s: 1, outlet: 1, load_w: 5, inrush_w: -1, inrush_s: 10.5 }))).toEqual([
            "/events/0/inrush_w = -1: must be >= 0",
            "/events/0/inrush_s = 10.5: must be <= 10",
        ])
        expect(problemsOf(withEvents({ at_s: 1, outlet: 1, load_w: 5, inrush_w: 1, inrush_s: 0 }))).toEqual([
            "/events/0/inrush_s = 0: must be > 0",
        ])
    })

    it("checks HEMS commands", () => {
        expect(problemsOf(withEvents({ at_s: 1, hems: { mode: "setpoint" } }))).toEqual([
            '/events/0/hems/setpoint_w: required when mode is "setpoint"',
        ])
        // Ranges and combinations (setpoint_w without mode "setpoint") are the firmware's to reject: a
        // scenario may send such a command on purpose. The loader checks types and keys only.
        expect(problemsOf(withEvents({ at_s: 1, hems: { setpoint_w: 5 } }))).toEqual([])
        expect(problemsOf(withEvents({ at_s: 1, hems: {} }))).toEqual(["/events/0/hems = {}: must NOT have fewer than 1 properties"])
        expect(problemsOf(withKeys({ initial: { time_of_day: "24:00" } }))).toEqual([
            '/initial/time_of_day = "24:00": must match pattern "^([01][0-9]|2[0-3]):[0-5][0-9]$"',
        ])
        expect(
            problemsOf(withEvents({ at_s: 1, hems: { mode: "turbo", setpoint_w: "5", soc_floor_pct: 101, outlet_priority: 3 } })),
        ).toEqual([
            '/events/0/hems/mode = "turbo": must be one of "idle", "setpoint", "self_consumption", "pv_surplus", "schedule"',
            '/events/0/hems/setpoint_w = "5": must be number',
            "/events/0/hems/soc_floor_pct = 101: must be <= 100",
            "/events/0/hems/outlet_priority = 3: outlet 3 is not configured (config outlets.count = 2)",
        ])
        expect(problemsOf(withEvents({ at_s: 1, hems: "idle" }))).toEqual(['/events/0/hems = "idle": must be object'])
    })

    it("checks the other event kinds", () => {
        expect(
            problemsOf(
                withEvents(
                    { at_s: 1, outlet_switch: true },
                    { at_s: 1, temp_c: 121 },
                    { at_s: 1, pv_w: -1 },
                    { at_s: 1, grid: "off" },
                    { at_s: 1, grid: "up", grid_v: 0, grid_hz: -50 },
                    { at_s: 1, grid: "down", grid_v: 100, grid_hz: 50 },
                    { at_s: 1, fault: "fire" },
                    { at_s: 1, clear_fault: 1 },
                ),
            ),
        ).toEqual([
            "/events/0/outlet_switch = true: must be string",
            '/events/0/outlet_switch = true: must be one of "on", "off"',
            "/events/1/temp_c = 121: must be <= 120",
            "/events/2/pv_w = -1: must be >= 0",
            '/events/3/grid = "off": must be one of "up", "down"',
            "/events/4/grid_v = 0: must be > 0",
            "/events/4/grid_hz = -50: must be > 0",
            '/events/5/grid_v: only allowed when grid is "up"',
            '/events/5/grid_hz: only allowed when grid is "up"',
            '/events/6/fault = "fire": must be one of "outlet1_meter_stale", "outlet2_meter_stale", "outlet3_meter_stale", "outlet4_meter_stale", "battery_stale", "outlet1_relay_welded", "outlet2_relay_welded", "outlet3_relay_welded", "outlet4_relay_welded", "contactor_welded", "grid_relay_welded", "estop", "inverter_stale", "grid_meter_stale"',
            "/events/7/clear_fault = 1: must be string",
            '/events/7/clear_fault = 1: must be one of "outlet1_meter_stale", "outlet2_meter_stale", "outlet3_meter_stale", "outlet4_meter_stale", "battery_stale", "outlet1_relay_welded", "outlet2_relay_welded", "outlet3_relay_welded", "outlet4_relay_welded", "contactor_welded", "grid_relay_welded", "estop", "inverter_stale", "grid_meter_stale"',
        ])
    })

    it("reports a bad config override under /config", () => {
        expect(problemsOf(withKeys({ config: { outlets: { budgetPowerW: 0 } } }))).toEqual(["/config/outlets/budgetPowerW = 0: must be > 0"])
        expect(problemsOf(withKeys({ config: { outlets: { budgetPowrW: 1000 } } }))).toEqual([
            expect.stringMatching(/^\/config\/outlets\/budgetPowrW: unknown key \(allowed: .*budgetPowerW/),
        ])
        expect(problemsOf(withKeys({ config: { v2g: {} } }))).toEqual([expect.stringMatching(/^\/config\/v2g: unknown key/)])
        expect(problemsOf(withKeys({ config: { outlets: null } }))).toEqual(["/config/outlets = null: must be object"])
        // cross-field rules of devs.json apply to the merged result
        expect(problemsOf(withKeys({ config: { outlets: { highPriorityOutlet: 3 } } }))).toEqual([
            "/config/outlets/highPriorityOutlet = 3: there are only 2 outlets",
        ])
        expect(problemsOf(withKeys({ config: { tripCurve: { inrushRatio: 3.5 } } }))).toEqual([
            "/config/tripCurve/instantRatio = 3: must be greater than inrushRatio (3.5)",
        ])
        expect(problemsOf(withKeys({ config: 5 }))).toEqual(["/config = 5: must be object"])
    })

    it("does not let a __proto__ key in the override reach the prototype", () => {
        const value = JSON.parse(`{"name":"x","duration_s":5,"config":{"__proto__":{"polluted":true}}}`)
        expect(problemsOf(value)).toEqual([expect.stringMatching(/^\/config\/__proto__: unknown key/)])
        expect(({} as any).polluted).toBeUndefined()
    })

    it("requires exactly one check per expectation", () => {
        expect(problemsOf(withExpect({ column: "soc_pct", max_le: 90, min_ge: 10 }))).toEqual([
            "/expect/0: exactly one check expected, found max_le and min_ge",
        ])
        expect(problemsOf(withExpect({ name: "nothing", column: "soc_pct" }))).toEqual([
            "/expect/0: no check (expected exactly one of: max_le, min_ge, always_eq, final_eq, mean_between, reaches, trip, no_trip)",
        ])
        expect(problemsOf(withExpect(7))).toEqual(["/expect/0 = 7: must be object"])
    })

    it("checks each expectation form's keys and values", () => {
        expect(
            problemsOf(
                withExpect(
                    { column: "soc", max_le: 90 },
                    { max_le: 90 },
                    { column: "state", always_eq: true },
                    { column: "soc_pct", mean_between: [1] },
                    { column: "soc_pct", reaches: 30 },
                    { column: "soc_pct", reaches: 30, by_s: 10, from_s: 0 },
                    { trip: { outlet: 1, reason: "overload" }, between_s: [0, 1] },
                    { trip: { outlet: 1, reason: "shed" } },
                    { no_trip: false },
                    { no_trip: true, column: "soc_pct" },
                ),
            ),
        ).toEqual([
            expect.stringMatching(/^\/expect\/0\/column = "soc": must be one of "t_s", "soc_pct", .*"injected_faults"$/),
            "/expect/1/column: required key is missing",
            "/expect/2/always_eq = true: must be number or string",
            "/expect/3/mean_between = [1]: must NOT have fewer than 2 items",
            "/expect/4/by_s: required key is missing",
            "/expect/5/from_s: unknown key (allowed: name, column, reaches, by_s)",
            '/expect/6/trip/reason = "overload": must be one of "overload_sustained", "overload_inverse", "overload_short", "overload_instant", "overload_on_reset", "shed"',
            "/expect/7/between_s: required key is missing",
            "/expect/8/no_trip = false: must be true",
            "/expect/9/column: unknown key (allowed: name, no_trip, from_s, to_s)",
        ])
    })

    it("keeps expectation windows inside the run and in order", () => {
        expect(
            problemsOf(
                withExpect(
                    { column: "soc_pct", min_ge: 10, from_s: 50, to_s: 40 },
                    { column: "soc_pct", min_ge: 10, to_s: 601 },
                    { column: "soc_pct", min_ge: 10, from_s: 700 },
                    { column: "soc_pct", reaches: 30, by_s: 601 },
                    { trip: { outlet: 1, reason: "shed" }, between_s: [5, 2] },
                    { trip: { outlet: 1, reason: "shed" }, between_s: [5, 700] },
                    { column: "soc_pct", mean_between: [50, 40] },
                    { no_trip: true, from_s: -1 },
                ),
            ),
        ).toEqual([
            "/expect/0/from_s = 50: must be <= to_s (40)",
            "/expect/1/to_s = 601: must be <= duration_s (600)",
            "/expect/2/from_s = 700: must be <= duration_s (600)",
            "/expect/3/by_s = 601: must be <= duration_s (600)",
            "/expect/4/between_s = [5,2]: from must be <= to",
            "/expect/5/between_s/1 = 700: must be <= duration_s (600)",
            "/expect/6/mean_between = [50,40]: low must be <= high",
            "/expect/7/from_s = -1: must be >= 0",
        ])
    })

    it("reports every problem at once, naming the file in the message", () => {
        let err: ScenarioError
        try {
            validateScenario(
                {
                    name: "many",
                    duration_s: 60,
                    speed: 2,
                    config: { outlets: { budgetPowerW: -5 } },
                    events: [
                        { at_s: 1, house_w: 300 },
                        { at_s: 2, outlet_switch: "on", house_w: 3 },
                        { at_s: 3, outlet: 1, load_w: -5 },
                        { at_s: 90, pv_w: 10 },
                    ],
                    expect: [{ column: "soc_pct", min_ge: 10, to_s: 61 }],
                },
                "scenarios/many.json",
            )
        } catch (e) {
            err = e as ScenarioError
        }
        expect(err).toBeInstanceOf(ScenarioError)
        expect(err.name).toBe("ScenarioError")
        expect(err.file).toBe("scenarios/many.json")
        expect(err.message).toBe(
            [
                "scenarios/many.json is invalid:",
                "  - /speed: unknown key (allowed: $schema, name, description, duration_s, seed, trace_interval_ms, config, plant, initial, events, expect)",
                "  - /config/outlets/budgetPowerW = -5: must be > 0",
                "  - /events/1: exactly one action expected, found outlet_switch and house_w",
                "  - /events/2/load_w = -5: must be >= 0",
                "  - /events/3/at_s = 90: must be <= duration_s (60)",
                "  - /expect/0/to_s = 61: must be <= duration_s (60)",
            ].join("\n"),
        )
    })

    it("does not check times against an invalid duration", () => {
        expect(problemsOf({ name: "x", duration_s: "60", events: [{ at_s: 90, pv_w: 1 }] })).toEqual(['/duration_s = "60": must be number'])
    })
})

describe("scenario files", () => {
    it("names the file and the line and column of a JSON syntax error", () => {
        const path = writeTmp("broken.json", '{\n  "name": "x",\n  "duration_s": 60,\n}\n')
        expect(() => loadScenario(path)).toThrow(ScenarioError)
        try {
            loadScenario(path)
        } catch (err) {
            const e = err as ScenarioError
            expect(e.file).toBe(path)
            expect(e.problems).toHaveLength(1)
            expect(e.problems[0]).toMatch(/^not valid JSON at line 4, column 1: /)
            expect(e.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is invalid:\n  - not valid JSON at line 4, column 1`))
        }
    })

    it("locates syntax errors that JSON.parse reports without a position", () => {
        const text = '{\n  "name": "x",\n  "duration_s": }'
        expect(() => JSON.parse(text)).toThrow()
        const path = writeTmp("noposition.json", text)
        expect(() => loadScenario(path)).toThrow(/not valid JSON at line 3, column 17: /)
        expect(jsonErrorOffset('{"a":[1,2,]}')).toBe(10)
        expect(jsonErrorOffset('{"a":"\\q"}')).toBe(7)
        expect(jsonErrorOffset('{"a":1} x')).toBe(8)
        expect(jsonErrorOffset('{"a":[1,{"b":null}],"c":"\\u00e9"}')).toBeUndefined()
    })

    it("names an unreadable file", () => {
        const path = join(tmp, "missing.json")
        expect(() => loadScenario(path)).toThrow(new RegExp(`missing\\.json is invalid:\n  - cannot read file: ENOENT`))
    })
})

describe("one definition of the HEMS command and the mode list (src/core/hems-command.ts)", () => {
    it("the scenario's hems object has exactly the core's command keys", () => {
        expect(Object.keys(schema.definitions.hems_command.properties)).toEqual(COMMAND_KEYS)
    })
    it("its modes are the core's modes, in wire order", () => {
        expect(schema.definitions.hems_command.properties.mode.enum).toEqual(V2H_MODES)
        expect(HEMS_MODES).toBe(V2H_MODES)
    })
    it("devs.json's local modes are the core's modes but setpoint (a local mode has no setpoint)", () => {
        const devsSchema = JSON.parse(readFileSync(DEVS_SCHEMA, "utf8"))
        expect(devsSchema.properties.v2h.properties.localMode.enum).toEqual(V2H_MODES.filter(m => m !== "setpoint"))
    })
    it("the services/ spec's V2hMode enum is the same list (wire codes)", () => {
        expect(enumNames(serviceSpec("charger-control"), "V2hMode")).toEqual(V2H_MODES)
    })
})

describe("scenario.schema.json", () => {
    const ajv = new Ajv({ allErrors: true, strict: true })
    const validate = ajv.compile(schema)

    it("compiles in strict mode and stands alone for other tools (HIL benches)", () => {
        expect(validate(withEvents({ at_s: 1, outlet: 1, load_w: 5 }))).toBe(true)
        expect(validate(withEvents({ at_s: 1, outlet_switch: "on", house_w: 3 }))).toBe(false)
        expect(validate(withEvents({ at_s: 1 }))).toBe(false)
        expect(validate(withEvents({ at_s: 1, hems: { mode: "setpoint" } }))).toBe(false)
        expect(validate(withExpect({ column: "soc_pct", max_le: 1, min_ge: 0 }))).toBe(false)
        expect(validate(withExpect({ column: "soc_pct", max_le: 1 }))).toBe(true)
    })

    it("agrees with the exported TypeScript constants", () => {
        const d = schema.definitions
        expect(d.fault_name.enum).toEqual([...FAULT_NAMES])
        expect(d.column.enum).toEqual([...TRACE_COLUMNS])
        expect(d.hems_command.properties.mode.enum).toEqual([...HEMS_MODES])
        expect(d.expect_trip.properties.trip.properties.reason.enum).toEqual([...TRIP_REASONS])
        expect(d.event.oneOf.map((r: any) => r.$ref)).toEqual(EVENT_ACTIONS.map(a => `#/definitions/event_${a}`))
        expect(d.expectation.oneOf.map((r: any) => r.$ref)).toEqual(EXPECTATION_CHECKS.map(c => `#/definitions/expect_${c}`))
        for (const a of EVENT_ACTIONS) expect(d[`event_${a}`].required).toEqual(expect.arrayContaining(["at_s", a]))
        for (const c of EXPECTATION_CHECKS) expect(d[`expect_${c}`].required).toContain(c)
    })
})
