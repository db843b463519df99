// `npm run flash`: argument and input checks (spawned, exit code + message). The pipeline itself
// (build, bundle, esptool) is tested in tests/sim/flash-pipeline.test.ts.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { dummyImage, runFlash } from "../helpers/flash-run"

const tmp = mkdtempSync(join(tmpdir(), "flash-test-"))
const emptyCache = mkdtempSync(join(tmpdir(), "flash-cache-"))
const NO_ESPTOOL = join(tmp, "no-such-esptool")

function flash(args: string[], env: Record<string, string> = {}) {
    return runFlash(args, { DEVS_RUNTIME_DIR: emptyCache, ...env }, 120_000)
}

function image(name: string, firstByte: number) {
    return dummyImage(tmp, name, firstByte)
}

describe("npm run flash: input checks (exit 2, every problem at once)", () => {
    it("no arguments: board, port and esptool", () => {
        const r = flash(["--esptool", NO_ESPTOOL])
        expect(r.code).toBe(2)
        expect(r.err).toContain("--board is required (known boards: charger_esp32, charger_esp32s3)")
        expect(r.err).toContain("--port is required")
        expect(r.err).toContain(`esptool not found (tried: ${NO_ESPTOOL})`)
    })

    it("an unknown option prints the usage", () => {
        const r = flash(["--bord", "charger_esp32"])
        expect(r.code).toBe(2)
        expect(r.err).toMatch(/Unknown option '--bord'/)
        expect(r.err).toContain("usage: npm run flash -- --board <id> --port <serial device>")
    })

    it("an unknown board lists the known ones", () => {
        const r = flash(["--board", "esp32_devkit_c", "--port", "/dev/null", "--esptool", NO_ESPTOOL])
        expect(r.code).toBe(2)
        expect(r.err).toContain("--board esp32_devkit_c: unknown board (known: charger_esp32, charger_esp32s3")
    })

    it("a port that does not exist, a bad baud rate", () => {
        const r = flash(["--board", "charger_esp32", "--port", "/dev/ttyUSB97", "--baud", "fast", "--esptool", NO_ESPTOOL])
        expect(r.code).toBe(2)
        expect(r.err).toContain("--port /dev/ttyUSB97: no such device")
        expect(r.err).toContain("--baud fast: must be an integer baud rate")
    })

    it("no runtime image: names the cache path and the pinned release URL, downloads nothing", () => {
        const r = flash(["--board", "charger_esp32s3", "--port", "/dev/null", "--esptool", NO_ESPTOOL])
        expect(r.code).toBe(2)
        expect(r.err).toContain(`cached runtime image ${join(emptyCache, "devicescript-esp32s3-esp32s3_bare-0x0.bin")}: not found`)
        expect(r.err).toContain("releases/download/v2.16.1/devicescript-esp32s3-esp32s3_bare-0x0.bin")
        expect(r.err).toContain("nothing is downloaded during flashing")
        const m = flash(["--board", "charger_esp32", "--port", "/dev/null", "--image", join(tmp, "missing.bin"), "--esptool", NO_ESPTOOL])
        expect(m.err).toContain(`--image ${join(tmp, "missing.bin")}: not found`)
    })

    it("an image that is not an ESP firmware image", () => {
        const bad = image("not-esp.bin", 0x7f)
        const r = flash(["--board", "charger_esp32", "--port", "/dev/null", "--image", bad, "--esptool", NO_ESPTOOL])
        expect(r.code).toBe(2)
        expect(r.err).toContain(`--image ${bad}: not an ESP32 firmware image (first byte 0x7f, expected 0xe9)`)
    })
})
