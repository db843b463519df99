// The command validator (src/core/hems/command.ts) at its edges: the id's length and character
// bounds, the payload limit, how a rejected value is shown, a payload that is not text, and the
// settable percentages (fractions allowed).
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import { COMMAND_KEYS, parseCommand, validateCommand } from "../../src/core/hems/command"
import { Controller } from "../../src/core/controller"

const parse = (text: string) => parseCommand(text, DEVS)
const EMPTY = { mode: "", setpointW: NaN, socFloorPct: NaN, reservePct: NaN, chargeLimitPct: NaN, outletPriority: NaN }

describe("the id: 1..40 printable ASCII characters", () => {
    it("accepts the shortest and the longest id and echoes it", () => {
        expect(parse('{"id":"a","mode":"idle"}')).toMatchObject({ error: "", id: "a" })
        const id40 = "g".repeat(39) + "9"
        expect(parse(`{"id":"${id40}","mode":"idle"}`)).toMatchObject({ error: "", id: id40 })
        expect(parse(`{"id":"${id40}x","mode":"idle"}`)).toMatchObject({
            error: `id = "${id40}...": must be a text of 1..40 characters`,
            id: "",
        })
    })

    it("accepts the printable range from space to tilde, refuses what lies outside it", () => {
        for (const id of [" ", "gw 1", "~", "a~b", "!#$%&'()*+,-./:;<=>?@[]^_`{|}"])
            expect(validateCommand({ id, mode: "idle" }, DEVS)).toMatchObject({ error: "", id })
        for (const id of ["\u001f", "a\u007f", "\u00e9t\u00e9", "tab\there", "\u4e00"])
            expect(validateCommand({ id, mode: "idle" }, DEVS)).toEqual({
                error: `id = ${JSON.stringify(id)}: only printable ASCII characters`,
                command: EMPTY,
                id: "",
            })
    })
})

describe("the payload limit and a payload that is not text", () => {
    const limit = DEVS.hems.maxPayloadBytes
    const padded = (n: number) => '{"mode":"idle"' + " ".repeat(n - '{"mode":"idle"}'.length) + "}"

    it("accepts a payload of exactly the limit, refuses one character more without parsing it", () => {
        expect(padded(limit)).toHaveLength(limit)
        expect(parse(padded(limit))).toMatchObject({ error: "", command: { mode: "idle" } })
        expect(parse(padded(limit + 1)).error).toBe(`payload too long: ${limit + 1} characters (limit ${limit})`)
    })

    it("echoes no id from a payload it refused before reading it", () => {
        const big = '{"id":"gw-1","mode":"idle"' + " ".repeat(limit) + "}"
        expect(parse(big)).toEqual({ error: `payload too long: ${big.length} characters (limit ${limit})`, command: EMPTY, id: "" })
        expect(parse('{"id":"gw-2","mode":"idle"')).toEqual({ error: 'not valid JSON: "{\\"id\\":\\"gw-2\\",\\"mode\\":\\"idle\\""', command: EMPTY, id: "" })
    })

    it("refuses a payload that is not text, naming it, instead of throwing", () => {
        expect(parseCommand(42 as any, DEVS)).toEqual({ error: "payload must be text, got 42", command: EMPTY, id: "" })
        expect(parseCommand(undefined as any, DEVS)).toEqual({ error: "payload must be text, got undefined", command: EMPTY, id: "" })
        expect(parseCommand({ mode: "idle" } as any, DEVS)).toEqual({ error: 'payload must be text, got {"mode":"idle"}', command: EMPTY, id: "" })
    })
})

describe("how a refused value is shown in the message", () => {
    it("a text of up to 40 characters in full, a longer one cut at 40 with ...", () => {
        const t40 = "abcdefghij".repeat(4)
        expect(parse(`{"mode":"${t40}"}`).error).toBe(`mode = "${t40}": must be one of idle, setpoint, self_consumption, pv_surplus, schedule`)
        expect(parse(`{"mode":"${t40}KLMNOP"}`).error).toBe(`mode = "${t40}...": must be one of idle, setpoint, self_consumption, pv_surplus, schedule`)
    })

    it("any other JSON value as JSON, cut the same way", () => {
        // {"a":"..."} of exactly 40 characters of JSON: shown whole.
        const v40 = { a: "x".repeat(40 - '{"a":""}'.length) }
        expect(JSON.stringify(v40)).toHaveLength(40)
        expect(validateCommand({ mode: v40 }, DEVS).error).toBe(`mode = ${JSON.stringify(v40)}: must be one of idle, setpoint, self_consumption, pv_surplus, schedule`)
        const v41 = { a: v40.a + "y" }
        expect(JSON.stringify(v41).slice(0, 40)).toBe('{"a":"' + v40.a + 'y"')
        expect(validateCommand({ mode: v41 }, DEVS).error).toBe(`mode = ${JSON.stringify(v41).slice(0, 40)}...: must be one of idle, setpoint, self_consumption, pv_surplus, schedule`)
        expect(validateCommand([1, 2], DEVS).error).toBe("command must be a JSON object, got [1,2]")
    })

    it("a malformed payload the same way, so that a long one does not flood the event", () => {
        const text = '{"mode":"setpoint","setpoint_w":3000,"reserve_pct":40'
        expect(parse(text).error).toBe(`not valid JSON: ${JSON.stringify(text.slice(0, 40) + "...")}`)
    })
})

describe("the empty command", () => {
    it("lists every command key, comma separated", () => {
        expect(COMMAND_KEYS).toHaveLength(6)
        expect(parse('{"id":"x"}').error).toBe("empty command: give at least one of mode, setpoint_w, soc_floor_pct, reserve_pct, charge_limit_pct, outlet_priority")
    })
})

describe("the settable percentages take fractions (the outlet number does not)", () => {
    // The library scenario v2h-soc-reserve sets a charge limit of 30.5 % on purpose; devs.json's
    // pct is a number, and docs/scenarios.md documents the three as numbers 0..100.
    it("accepts and applies a fractional SoC floor, reserve and charge limit", () => {
        const r = parse('{"soc_floor_pct":25.5,"reserve_pct":30.25,"charge_limit_pct":30.5}')
        expect(r).toMatchObject({ error: "", command: { socFloorPct: 25.5, reservePct: 30.25, chargeLimitPct: 30.5 } })
        const c = new Controller(DEVS)
        expect(c.command('{"mode":"setpoint","setpoint_w":-6000,"charge_limit_pct":30.5}', 0)).toBe("")
        expect(c.v2h.status.chargeLimitPct).toBe(30.5)
        expect(c.command('{"soc_floor_pct":12.5,"reserve_pct":10.5}', 0)).toBe("")
        expect(c.protection.status.socFloorPct).toBe(12.5)
        expect(c.v2h.status.reservePct).toBe(10.5)
        expect(parse('{"outlet_priority":1.5}').error).toBe("outlet_priority = 1.5: must be a whole number")
    })
})
