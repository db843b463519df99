// The outlets' supply decision (src/core/outlets/outlet-supply.ts) inside the DeviceScript VM.
// Run by scripts/test-vm.ts with --test --test-self-exit (a failure exits non-zero).
import { describe, expect, test } from "@devicescript/test"
import { OutletSupply } from "../../src/core/outlets/outlet-supply"

describe("outlet supply in the VM", () => {
    test("a reading from before the off command was written (or within the release time) proves no weld; a later one does", () => {
        const s = new OutletSupply()
        for (let i = 0; i < 3; i++) s.written(i, true, 0)
        expect(s.update({ weldedPowerW: 100, relayReleaseMs: 30, estop: false, outletOn: [false, false, false], outletW: [0, 0, 0], outletAtMs: [0, 0, 0] })).toBe(true)
        expect(s.update({ weldedPowerW: 100, relayReleaseMs: 30, estop: false, outletOn: [true, true, true], outletW: [600, 500, 600], outletAtMs: [88380, 88380, 88380] })).toBe(true)
        // Commanded off at 88370 but written at 88390: the 88400 reading proves nothing.
        s.written(1, false, 88390)
        expect(s.update({ weldedPowerW: 100, relayReleaseMs: 30, estop: false, outletOn: [true, false, true], outletW: [600, 500, 600], outletAtMs: [88400, 88400, 88400] })).toBe(true)
        expect(s.welded[1]).toBe(false)
        expect(s.update({ weldedPowerW: 100, relayReleaseMs: 30, estop: false, outletOn: [true, false, true], outletW: [600, 500, 600], outletAtMs: [88470, 88470, 88470] })).toBe(false)
        expect(s.welded[1]).toBe(true)
    })
})
