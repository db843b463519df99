// The board firmware image (src/boards/charger_esp32.ts: board config + drivers + app) booted in
// the DeviceScript WASM VM: it starts, the drivers' OutletMeter servers bind to outlet1Meter and
// outlet2Meter in order, and a chip that cannot be reached (the WASM VM has no I2C) is reported
// once and retried without a panic.
import { readFileSync } from "node:fs"
import { beforeAll, describe, expect, it } from "vitest"
import { CODE_LIMIT_BYTES, buildTarget, codeEndBytes, explainBuildFailure } from "../../scripts/lib/firmware-build"
import { createVm, deploy } from "../../sim/vm/devs-vm"

describe("board firmware in the VM", () => {
    const lines: string[] = []
    let built: Awaited<ReturnType<typeof buildTarget>>
    beforeAll(async () => {
        built = await buildTarget("charger_esp32")
        expect(built.ok, built.output).toBe(true)
        const vm = await createVm({ onLog: l => lines.push(l), onPanic: c => lines.push(`PANIC ${c}`) })
        deploy(vm, new Uint8Array(readFileSync(built.image)))
        // Role binding takes ~1 s of VM time (longer on a loaded machine: the firmware first reads its
        // stored settings); wait for both meter bindings, at least 3.5 s (three driver retries).
        const t0 = Date.now()
        const bound = () => ["outlet1Meter", "outlet2Meter"].every(r => lines.some(l => l.includes(`set role ${r} ->`)))
        while (Date.now() - t0 < 3500 || (!bound() && Date.now() - t0 < 20000)) await new Promise(r => setTimeout(r, 100))
        vm.devsStop()
    }, 60_000)

    it("keeps the image's code section below DeviceScript's 64 KiB limit, read from the image header", () => {
        const image = new Uint8Array(readFileSync(built.image))
        // the header's functions section starts right after the 112-byte header; its code follows
        const view = new DataView(image.buffer, image.byteOffset)
        expect(view.getUint32(32, true)).toBe(112)
        expect(view.getUint32(40, true)).toBe(112 + view.getUint32(36, true))
        expect(codeEndBytes(image)).toBe(built.codeBytes)
        expect(built.codeBytes).toBeGreaterThan(image.length / 2)
        expect(built.codeBytes).toBeLessThan(CODE_LIMIT_BYTES)
        expect(explainBuildFailure("x.ts:2:1 - error TS9999: verification error: -1051")).toMatch(/64 KiB limit/)
        expect(explainBuildFailure("x.ts:2:1 - error TS2304: Cannot find name")).toBe("")
    })

    it("boots the board image without a panic", () => {
        expect(lines.join("\n")).toContain("start: v2h-charger-controller boards/charger_esp32")
        expect(lines.filter(l => /PANIC|Unhandled|exception/i.test(l))).toEqual([])
    })

    it("binds outlet1Meter and outlet2Meter to the ADE7953 driver's servers in start order", () => {
        const binds = lines.map(l => /set role (outlet[12]Meter) -> (\w+):(\d+)/.exec(l)).filter(m => m)
        const m1 = binds.find(m => m[1] === "outlet1Meter")
        const m2 = binds.find(m => m[1] === "outlet2Meter")
        expect(m1 && m2).toBeTruthy()
        expect(m1[2]).toBe(m2[2]) // same device (the firmware's own servers)
        expect(Number(m1[3]) + 1).toBe(Number(m2[3]))
    })

    it("reports an unreachable chip once per error burst, for each chip", () => {
        for (const chip of ["ADE7953", "INA228", "TMP102"]) expect(lines.filter(l => l.includes(`${chip}: `))).toHaveLength(1)
    })
})
