// Builds the firmware (src/main.ts) with the pinned DeviceScript compiler and returns its
// bytecode: the exact bytes that go onto the ESP32.
//
// A scenario may override devs.json (`config`). The firmware reads its ratings and limits from
// the generated module src/config/devs.gen.ts at build time, so such a scenario runs a VARIANT
// build: a copy of src/ under .devicescript/variants/<hash>/ whose devs.gen.ts is rendered from
// the scenario's merged config, compiled by the same compiler. Same code, other numbers — what a
// charger maker flashing a board with that devs.json would get.
import { createHash } from "node:crypto"
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { loadDevsConfig, renderDevsModule, ROOT } from "../scripts/lib/devs-config"
import { runDevs } from "../scripts/lib/devs-cli"

const builds = new Map<string, Promise<Uint8Array>>()
// Builds write one output file: they run one after another.
let queue: Promise<unknown> = Promise.resolve()

async function compile(entry: string): Promise<Uint8Array> {
    const res = await runDevs(["build", "--quiet", entry])
    if (res.code !== 0) throw new Error(`firmware build of ${entry} failed:\n` + res.output)
    // Read at once: other builds (VM tests) write to the same place (the CLI's --out-dir is broken in 2.16.4).
    return new Uint8Array(readFileSync(join(ROOT, ".devicescript", "bin", "bytecode.devs")))
}

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
        p = queue.then((): Promise<Uint8Array> => (key === repo ? compile("src/main.ts") : buildVariant(key)))
        queue = p.catch((): void => undefined)
        builds.set(key, p)
    }
    return p
}

async function buildVariant(configJson: string): Promise<Uint8Array> {
    const hash = createHash("sha256").update(configJson).digest("hex").slice(0, 16)
    const dir = join(ROOT, ".devicescript", "variants", hash)
    const src = join(dir, "src")
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    cpSync(join(ROOT, "src"), src, { recursive: true, filter: f => !f.endsWith(join("config", "devs.gen.ts")) })
    mkdirSync(join(src, "config"), { recursive: true })
    writeFileSync(join(src, "config", "devs.gen.ts"), renderDevsModule(JSON.parse(configJson)))
    return compile(relative(ROOT, join(src, "main.ts")))
}
