// The firmware sends outlet reasons, alarm reasons and SoC states as enum codes defined in
// services/charger-control.md; the core's lists must follow the compiled spec's order.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { ALARM_REASONS, OUTLET_REASONS, SOC_STATES } from "../../src/core/outlets/io"
import { FAULT_CODES } from "../../src/core/v2h/faults"
import { V2H_STATES } from "../../src/core/v2h/sequencing"
import { LIMIT_REASONS, REQUEST_SOURCES } from "../../src/core/v2h/limits"
import { V2H_MODES } from "../../src/core/hems/command"
import { GRID_STATES } from "../../src/core/v2h/grid-monitor"

const specs = JSON.parse(readFileSync(join(ROOT, ".devicescript", "services.json"), "utf8"))
const control = specs.find((s: any) => s.shortId === "chargercontrol" || s.name === "Charger Control")

function snakeMembers(enumName: string): string[] {
    const members = control.enums[enumName].members as Record<string, number>
    const out: string[] = []
    for (const [name, code] of Object.entries(members)) out[code] = name.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase()
    return out
}

describe("wire codes of the ChargerControl service", () => {
    it("outlet reasons follow the spec's OutletReason enum", () => {
        expect(OUTLET_REASONS).toEqual(snakeMembers("OutletReason"))
    })
    it("alarm reasons follow AlarmReason", () => {
        expect(ALARM_REASONS).toEqual(snakeMembers("AlarmReason"))
    })
    it("SoC states follow SocState", () => {
        expect(SOC_STATES).toEqual(snakeMembers("SocState"))
    })
})

describe("wire codes of the V2H status", () => {
    // Outlet1RelayWelded -> outlet1_relay_welded: digits stay attached to the word before them.
    const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()
    const members = (enumName: string) => {
        const out: string[] = []
        for (const [name, code] of Object.entries(control.enums[enumName].members as Record<string, number>)) out[code] = snake(name)
        return out
    }
    it("states, modes, request sources, limit reasons, faults and grid states follow the spec", () => {
        expect(V2H_STATES).toEqual(members("V2hState"))
        expect(V2H_MODES).toEqual(members("V2hMode"))
        expect(REQUEST_SOURCES).toEqual(members("RequestSource"))
        expect(LIMIT_REASONS).toEqual(members("LimitReason"))
        expect(FAULT_CODES).toEqual(members("Fault"))
        expect(GRID_STATES).toEqual(members("GridState"))
    })
    it("the limit mask fits the u32 field", () => {
        expect(LIMIT_REASONS.length).toBeLessThanOrEqual(32)
    })
})
