// The simulator takes every service code, status field position and enum from services/*.md (one
// definition per contract): these tests prove that it reads what the firmware is compiled against,
// and that a changed spec changes what the simulator does, or stops it with a message naming the
// spec, instead of desynchronising it silently.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"
import { controlSurface, outletStatusView } from "../../sim/control-client"
import { plantCodes } from "../../sim/servers"
import { SERVICES_DIR, enumNames, parseServiceSpecs, serviceSpec, SpecError } from "../../sim/service-specs"
import { FAULT_CODES, V2H_STATES } from "../../src/core/v2h-supervisor"
import { OUTLET_REASONS } from "../../src/core/outlet-protection"

const dirs: string[] = []
afterAll(() => dirs.forEach(d => rmSync(d, { recursive: true, force: true })))

/** A copy of services/ with `file` edited by `edit`; returns the parsed specs of the copy. */
function editedSpecs(file: string, edit: (text: string) => string) {
    const dir = mkdtempSync(join(tmpdir(), "specs-"))
    dirs.push(dir)
    cpSync(SERVICES_DIR, dir, { recursive: true })
    const path = join(dir, file)
    const before = readFileSync(path, "utf8")
    const after = edit(before)
    expect(after).not.toBe(before) // the edit really applied
    writeFileSync(path, after)
    return parseServiceSpecs(dir)
}
const control = (specs = parseServiceSpecs()) => controlSurface(serviceSpec("charger-control", specs))

describe("the simulator's service specs", () => {
    it("are exactly what the DeviceScript build compiled (.devicescript/services.json)", () => {
        const built = JSON.parse(readFileSync(join(ROOT, ".devicescript", "services.json"), "utf8"))
        const byId = (xs: any[]) => [...xs].sort((a, b) => (a.shortId < b.shortId ? -1 : 1))
        expect(byId(parseServiceSpecs())).toEqual(byId(built))
    })

    it("give the control surface's codes from the spec", () => {
        const c = control()
        expect(c.serviceClass).toBe(0x1c4f6a03)
        expect([c.outletStatus, c.v2hStatus, c.timeOfDay, c.hemsCommand, c.clearFaults]).toEqual([0x180, 0x181, 0x84, 0x80, 0x81])
        expect(c.events).toEqual({ trip: 0x81, fault: 0x82, stateChanged: 0x83, commandRejected: 0x80 })
    })

    it("decode status fields by name, enums as the core's names", () => {
        const c = control()
        // v2h_status: request, target, command, mask, state, mode, source, limit, fault, latched, last fault, grid state
        const v = c.decodeV2hStatus([100, 200, 150, 0, V2H_STATES.indexOf("discharging"), 1, 1, 9, FAULT_CODES.indexOf("estop"), 1, 0, 1])
        expect(v).toMatchObject({ request_w: 100, target_w: 200, command_w: 150, state: "discharging", mode: "setpoint", limit_reason: "rating", fault: "estop" })
        const o = outletStatusView(c.decodeOutletStatus([500, 1130, 1, 0, 0, OUTLET_REASONS.indexOf("shed"), 3, 1]))
        expect(o).toMatchObject({ thermalLevel: 0.5, loadRatio: 1.13, alarm: "overload", socState: "alarm" })
        expect(o.outlets).toEqual([{ on: true, reason: "none" }, { on: false, reason: "shed" }])
        expect(c.decodeEvent.trip([2, 99])).toEqual({ outlet: 2, reason: "code_99" })
    })

    it("a moved register code moves the simulator with it", () => {
        const c = control(editedSpecs("charger-control.md", t => t.replace("@ 0x181", "@ 0x191")))
        expect(c.v2hStatus).toBe(0x191)
    })

    it("reordered status fields are decoded at their new positions", () => {
        const specs = editedSpecs("charger-control.md", t => t.replace("        state: V2hState\n        mode: V2hMode\n", "        mode: V2hMode\n        state: V2hState\n"))
        const v = control(specs).decodeV2hStatus([0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0])
        expect(v).toMatchObject({ mode: "setpoint", state: "discharging" })
    })

    it("a renumbered enum member is decoded by its new code", () => {
        const specs = editedSpecs("charger-control.md", t => t.replace("        Rating = 9\n", "        Rating = 31\n"))
        expect(enumNames(serviceSpec("charger-control", specs), "LimitReason")[31]).toBe("rating")
        expect(control(specs).decodeV2hStatus([0, 0, 0, 0, 0, 0, 0, 31, 0, 0, 0, 0]).limit_reason).toBe("rating")
    })

    it("a field the simulator reads, renamed in the spec, stops it with the spec's name", () => {
        const specs = editedSpecs("charger-control.md", t => t.replace("        limit_reason: LimitReason\n", "        governing_limit: LimitReason\n"))
        expect(() => control(specs)).toThrow(SpecError)
        expect(() => control(specs)).toThrow(/services\/charger-control\.md v2h_status: no field limit_reason/)
    })

    it("a reading whose fields the plant fills in another order stops the simulator", () => {
        const specs = editedSpecs("outlet-meter.md", t => t.replace(/( {8}power: .*\n)( {8}current: .*\n)/, "$2$1"))
        expect(() => plantCodes(specs)).toThrow(/services\/outlet-meter\.md measurement: fields are current, power, voltage; the simulator fills power, current, voltage/)
        expect(() => plantCodes()).not.toThrow()
    })

    it("decodes as many outlets as outlet_status carries", () => {
        const specs = editedSpecs("charger-control.md", t =>
            t.replace("        alarm: AlarmReason\n", "        outlet3_on: bool\n        outlet3_reason: OutletReason\n        alarm: AlarmReason\n"),
        )
        const o = outletStatusView(control(specs).decodeOutletStatus([0, 0, 1, 0, 1, 0, 0, OUTLET_REASONS.indexOf("overload_short"), 0, 0]))
        expect(o.outlets.map(x => x.reason)).toEqual(["none", "none", "overload_short"])
    })
})
