// The firmware sends outlet reasons, alarm reasons and SoC states as enum codes defined in
// services/charger-control.md; the core's lists must follow the compiled spec's order.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { ALARM_REASONS, OUTLET_REASONS, SOC_STATES } from "../../src/core/outlet-protection"

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
