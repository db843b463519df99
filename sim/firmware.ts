// Builds the firmware (src/main.ts) with the pinned DeviceScript compiler and returns its
// bytecode: the exact bytes that go onto the ESP32.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { ROOT } from "../scripts/lib/devs-config"
import { runDevs } from "../scripts/lib/devs-cli"

export async function buildFirmware(): Promise<Uint8Array> {
    const res = await runDevs(["build", "--quiet", "src/main.ts"])
    if (res.code !== 0) throw new Error("firmware build failed:\n" + res.output)
    // Read at once: other builds (VM tests) write to the same place.
    return new Uint8Array(readFileSync(join(ROOT, ".devicescript", "bin", "bytecode.devs")))
}
