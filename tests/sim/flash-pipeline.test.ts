// `npm run flash` end to end up to the board: build, offline bundle (runtime image + board config +
// program) and the esptool call, with a stand-in esptool that records its arguments and a dummy
// runtime image (no board, no network, no esptool here). Kept out of tests/unit so that mutation
// testing (which runs tests/unit) does not run it.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { dummyImage, runFlash } from "../helpers/flash-run"

const tmp = mkdtempSync(join(tmpdir(), "flash-pipeline-"))

function flash(args: string[]) {
    return runFlash(args, { DEVS_RUNTIME_DIR: tmp }, 150_000)
}

function image(name: string, firstByte: number) {
    return dummyImage(tmp, name, firstByte)
}

describe("npm run flash: the steps, with a stand-in esptool", () => {
    it("builds, bundles runtime + board config + program offline, and calls esptool write_flash at the runtime's offset", async ctx => {
        const log = join(tmp, "esptool-args.txt")
        const fake = join(tmp, "fake-esptool")
        writeFileSync(fake, `#!/bin/sh\nif [ "$1" = "version" ]; then echo "esptool.py v4.8.1"; exit 0; fi\necho "$@" > "${log}"\n`)
        chmodSync(fake, 0o755)
        const img = image("runtime-esp32.bin", 0xe9)
        const r = flash(["--board", "charger_esp32", "--port", "/dev/null", "--image", img, "--esptool", fake])
        if (/127\.0\.0\.1:808\d is in use/.test(r.err)) ctx.skip() // someone's devtools hub: the bundle step refuses (tested message)
        expect(r.err + r.out).not.toMatch(/\bfetch https?:/) // nothing downloaded
        expect(r.code).toBe(0)
        expect(r.err).toContain("WARNING: not pinned")
        const args = readFileSync(log, "utf8").trim().split(" ")
        expect(args.slice(0, 4)).toEqual(["--chip", "esp32", "--port", "/dev/null"])
        expect(args.slice(-3, -1)).toEqual(["write_flash", "0x1000"])
        const bundle = readFileSync(args[args.length - 1])
        // image from 0x1000: board config (DCFG) at flash 0x9000, program in flash storage at 0x1c0000
        expect(bundle.subarray(0x8000, 0x8004).toString("latin1")).toBe("DCFG")
        const program = bundle.indexOf("startChargerDrivers")
        expect(program).toBeGreaterThan(0x1c0000 - 0x1000)
        expect(bundle[0]).toBe(0xe9)
    }, 180_000)

    it("--hil bundles the board's HIL image: its board config without services, the application without the drivers", async ctx => {
        const log = join(tmp, "esptool-args-hil.txt")
        const fake = join(tmp, "fake-esptool-hil")
        writeFileSync(fake, `#!/bin/sh\nif [ "$1" = "version" ]; then echo "esptool.py v4.8.1"; exit 0; fi\necho "$@" > "${log}"\n`)
        chmodSync(fake, 0o755)
        const img = image("runtime-esp32s3.bin", 0xe9)
        const r = flash(["--board", "charger_esp32s3", "--port", "/dev/null", "--image", img, "--esptool", fake, "--hil"])
        if (/127\.0\.0\.1:808\d is in use/.test(r.err)) ctx.skip()
        expect(r.code, r.out + r.err).toBe(0)
        expect(r.out).toContain("HIL image of charger_esp32s3")
        const args = readFileSync(log, "utf8").trim().split(" ")
        expect(args.slice(0, 2)).toEqual(["--chip", "esp32s3"])
        const bundle = readFileSync(args[args.length - 1])
        expect(bundle.indexOf("charger_esp32s3_hil")).toBeGreaterThan(0) // the HIL board config
        expect(bundle.indexOf("startChargerDrivers")).toBe(-1) // no chip drivers
        expect(bundle.indexOf("v2h-charger-controller")).toBeGreaterThan(0x1c0000 - 0x1000 - 1) // the application in flash storage
    }, 180_000)
})
