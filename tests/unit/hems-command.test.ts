// The one command parser/validator (src/core/hems/command.ts) and the controller's all-or-nothing apply.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { parseCommand, validateCommand } from "../../src/core/hems/command"
import { Controller } from "../../src/core/controller"

const RUNS = Number(process.env.FC_RUNS ?? 1000)
const parse = (text: string) => parseCommand(text, DEVS)

describe("parseCommand: valid commands", () => {
    it("reads every key, in snake_case, and leaves absent ones NaN/empty", () => {
        expect(parse('{"mode":"setpoint","setpoint_w":-2500.5}')).toEqual({
            error: "",
            command: { mode: "setpoint", setpointW: -2500.5, socFloorPct: NaN, reservePct: NaN, chargeLimitPct: NaN, outletPriority: NaN },
            id: "",
        })
        const r = parse('{"soc_floor_pct":25,"reserve_pct":40,"charge_limit_pct":80,"outlet_priority":2}')
        expect(r.error).toBe("")
        expect(r.command).toMatchObject({ mode: "", socFloorPct: 25, reservePct: 40, chargeLimitPct: 80, outletPriority: 2 })
        for (const m of ["idle", "self_consumption", "pv_surplus", "schedule"]) expect(parse(`{"mode":"${m}"}`).command.mode).toBe(m)
        expect(parse(`{"mode":"setpoint","setpoint_w":${DEVS.v2h.ratedPowerW}}`).error).toBe("")
        expect(parse(`{"mode":"setpoint","setpoint_w":${-DEVS.v2h.ratedPowerW}}`).error).toBe("")
    })
})

describe("parseCommand: the optional correlation id", () => {
    it("is returned with a valid command and with a rejected one, and is not a command by itself", () => {
        expect(parse('{"id":"el-7","mode":"idle"}')).toMatchObject({ error: "", id: "el-7", command: { mode: "idle" } })
        expect(parse('{"id":"el-8","mode":"setpoint","setpoint_w":99999}')).toMatchObject({ error: expect.stringMatching(/setpoint_w = 99999: out of range/), id: "el-8" })
        expect(parse('{"id":"el-9"}')).toMatchObject({ error: expect.stringMatching(/empty command/), id: "el-9" })
    })
    it("must be short printable text; a bad one is refused by name and not echoed", () => {
        for (const bad of ['{"id":7,"mode":"idle"}', '{"id":"","mode":"idle"}', `{"id":"${"x".repeat(41)}","mode":"idle"}`, '{"id":"a\\u0001b","mode":"idle"}'])
            expect(parse(bad)).toMatchObject({ error: expect.stringMatching(/^id = /), id: "" })
        expect(parse('{"id":"a\\u0001b","mode":"idle"}').error).toMatch(/printable ASCII/)
    })
    it("the controller applies the command exactly as without an id", () => {
        const c = new Controller(DEVS)
        expect(c.handle('{"id":"x1","mode":"setpoint","setpoint_w":1500}', 10)).toEqual({ error: "", id: "x1" })
        expect(c.v2h.status.setpointW).toBe(1500)
        expect(c.handle('{"id":"x2","mode":"setpoint","setpoint_w":1e6}', 20)).toMatchObject({ id: "x2", error: expect.stringMatching(/out of range/) })
        expect(c.v2h.status.setpointW).toBe(1500)
    })
})

describe("parseCommand: rejections name the key, the value and the rule", () => {
    const cases: [string, RegExp][] = [
        ["", /not valid JSON/],
        ["{mode: setpoint}", /not valid JSON/],
        ['{"mode":"setpoint","setpoint_w":3000', /not valid JSON/],
        ["[1,2]", /must be a JSON object/],
        ["42", /must be a JSON object, got 42/],
        ["null", /must be a JSON object, got null/],
        ['"idle"', /must be a JSON object/],
        ["{}", /empty command/],
        ['{"mode":"turbo"}', /mode = "turbo": must be one of idle, setpoint/],
        ['{"mode":3}', /mode = 3: must be one of/],
        ['{"power_w":5}', /unknown key "power_w" \(allowed: mode, setpoint_w/],
        ['{"mode":"setpoint"}', /mode "setpoint" needs setpoint_w/],
        ['{"setpoint_w":1000}', /setpoint_w = 1000: needs "mode": "setpoint"/],
        ['{"mode":"idle","setpoint_w":1000}', /needs "mode": "setpoint"/],
        ['{"mode":"setpoint","setpoint_w":"3000"}', /setpoint_w = "3000": must be a finite number/],
        ['{"mode":"setpoint","setpoint_w":1e999}', /setpoint_w = Infinity: must be a finite number/],
        ['{"mode":"setpoint","setpoint_w":-1e999}', /setpoint_w = -Infinity: must be a finite number/],
        ['{"mode":"setpoint","setpoint_w":null}', /setpoint_w = null: must be a finite number/],
        ['{"mode":"setpoint","setpoint_w":6001}', /setpoint_w = 6001: out of range -6000..6000 W/],
        ['{"soc_floor_pct":5}', /soc_floor_pct = 5: out of range 10..90 %/],
        ['{"reserve_pct":95}', /reserve_pct = 95: out of range 10..90 %/],
        ['{"charge_limit_pct":10}', /charge_limit_pct = 10: out of range 20..100 %/],
        ['{"outlet_priority":1.5}', /outlet_priority = 1.5: must be a whole number/],
        ['{"outlet_priority":3}', /outlet_priority = 3: out of range 1..2/],
        ['{"outlet_priority":true}', /outlet_priority = true: must be a finite number/],
    ]
    for (const [text, why] of cases)
        it(`rejects ${text || "(empty)"}`, () => {
            const r = parse(text)
            expect(r.error).toMatch(why)
            expect(r.command.mode).toBe("")
        })

    it("rejects oversize payloads before parsing", () => {
        const big = '{"mode":"idle"' + " ".repeat(DEVS.hems.maxPayloadBytes) + "}"
        expect(parse(big).error).toBe(`payload too long: ${big.length} characters (limit ${DEVS.hems.maxPayloadBytes})`)
    })

    it("never throws and never half-validates, whatever the JSON value (property)", () => {
        fc.assert(
            fc.property(fc.jsonValue(), v => {
                const r = validateCommand(v, DEVS)
                if (r.error === "") {
                    // Only objects made of the known keys with valid values get through.
                    expect(typeof v).toBe("object")
                    expect(Object.keys(v as object).length).toBeGreaterThan(0)
                } else expect(r.command.mode).toBe("")
            }),
            { numRuns: RUNS },
        )
        fc.assert(
            fc.property(fc.string({ maxLength: 600 }), t => {
                expect(() => parse(t)).not.toThrow()
            }),
            { numRuns: RUNS },
        )
    })
})

describe("Controller.command: all or nothing", () => {
    it("applies every key of a valid command", () => {
        const c = new Controller(DEVS)
        expect(c.command('{"mode":"self_consumption","soc_floor_pct":25,"reserve_pct":40,"charge_limit_pct":80,"outlet_priority":2}', 0)).toBe("")
        expect(c.protection.status.socFloorPct).toBe(25)
        expect(c.protection.status.highPriorityOutlet).toBe(2)
        expect(c.v2h.status.reservePct).toBe(40)
        expect(c.v2h.status.chargeLimitPct).toBe(80)
        expect(c.v2h.status.mode).toBe("self_consumption")
    })

    it("changes nothing when one key is bad, including a reserve at or above the current charge limit", () => {
        const c = new Controller(DEVS)
        const before = JSON.stringify(c.statusJson(0))
        expect(c.command('{"soc_floor_pct":25,"outlet_priority":2,"reserve_pct":95}', 0)).toMatch(/reserve_pct = 95/)
        expect(c.command(`{"soc_floor_pct":25,"reserve_pct":${DEVS.v2h.chargeLimit.defaultPct}}`, 0)).toMatch(
            /reserve_pct = 90: must be below the charge limit \(90 %\)/,
        )
        expect(c.command('{"reserve_pct":60,"charge_limit_pct":50}', 0)).toBe("reserve_pct = 60: must be below the charge limit (50 %)")
        expect(c.command('{"mode":"setpoint","setpoint_w":3000,"charge_limit_pct":25}', 0)).toMatch(/charge_limit_pct = 25: must be above the reserve \(30 %\)/)
        expect(JSON.stringify(c.statusJson(0))).toBe(before)
    })

    it("the status document carries state, limits, outlets and faults with units in the names", () => {
        const c = new Controller(DEVS)
        const s = c.statusJson(0)
        expect(Object.keys(s)).toEqual(
            expect.arrayContaining(["state", "mode", "request_w", "target_w", "command_w", "limit_reason", "limits", "reserve_pct", "charge_limit_pct", "soc_floor_pct", "outlets", "grid_state", "fault", "last_fault"]),
        )
        expect(s.outlets).toHaveLength(DEVS.outlets.count)
    })
})
