// Builds the firmware (src/main.ts) with the pinned DeviceScript compiler and returns its
// bytecode: the exact bytes that go onto the ESP32.
//
// A scenario may override devs.json (`config`). The firmware reads its ratings and limits from
// the generated module src/config/devs.gen.ts at build time, so such a scenario runs a VARIANT
// build: a copy of src/ in its own folder under .devicescript/variants/ whose devs.gen.ts (and
// ha.gen.ts, the Home Assistant configs) are rendered from the scenario's merged config,
// compiled by the same compiler. Same code, other numbers — what a charger maker flashing a board with that devs.json would get. Its own folder
// (own .devicescript/bin) keeps parallel builds from reading each other's output; the
// repository's own config builds in a private workspace for the same reason.
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { createHash } from "node:crypto"
import { join } from "node:path"
import { loadDevsConfig, renderDevsModule, ROOT } from "../scripts/lib/devs-config"
import { runDevs } from "../scripts/lib/devs-cli"
import { renderHaModule } from "../scripts/lib/ha-templates"
import { inWorkspace } from "../scripts/lib/firmware-build"

const builds = new Map<string, Promise<Uint8Array>>()

function canonical(cfg: object): string {
    const { $schema, ...body } = cfg as any
    return JSON.stringify(body)
}

/** The firmware for a config (default: the repository's devs.json). Builds are cached per config in this process. */
export function buildFirmware(config?: object): Promise<Uint8Array> {
    const repo = canonical(loadDevsConfig())
    const key = config === undefined ? repo : canonical(config)
    let p = builds.get(key)
    if (!p) {
        p = build(key === repo ? undefined : key)
        builds.set(key, p)
        p.catch(() => builds.delete(key))
    }
    return p
}

async function build(configJson?: string): Promise<Uint8Array> {
    let cwd = ROOT
    if (configJson !== undefined) {
        const text = renderDevsModule(JSON.parse(configJson))
        cwd = join(ROOT, ".devicescript", "variants", `${createHash("sha256").update(text).digest("hex").slice(0, 12)}-${process.pid}`)
        rmSync(cwd, { recursive: true, force: true })
        mkdirSync(cwd, { recursive: true })
        cpSync(join(ROOT, "src"), join(cwd, "src"), { recursive: true })
        cpSync(join(ROOT, "devsconfig.json"), join(cwd, "devsconfig.json"))
        writeFileSync(join(cwd, "src", "config", "devs.gen.ts"), text)
        writeFileSync(join(cwd, "src", "config", "ha.gen.ts"), renderHaModule(JSON.parse(configJson)))
        for (const d of ["node_modules", "services"]) symlinkSync(join(ROOT, d), join(cwd, d))
    }
    const compile = async (dir: string) => {
        const res = await runDevs(["build", "--quiet", "src/main.ts"], { cwd: dir })
        if (res.code !== 0) throw new Error("firmware build failed:\n" + res.output)
        return new Uint8Array(readFileSync(join(dir, ".devicescript", "bin", "bytecode.devs")))
    }
    // The repository's config builds in a private workspace too (links to src/ and the rest):
    // test files run in parallel processes, and two builds in the project root would write the
    // same .devicescript/bin/bytecode.devs while the other reads it.
    if (cwd === ROOT) return inWorkspace(compile)
    try {
        return await compile(cwd)
    } finally {
        rmSync(cwd, { recursive: true, force: true })
    }
}
