// Validates devs.json and writes src/config/devs.gen.ts, the firmware's build-time copy of it,
// src/config/ha.gen.ts (its Home Assistant discovery configs as templates; scripts/lib/ha-templates.ts)
// and src/config/build.gen.ts (the git commit; scripts/lib/build-info.ts).
//   tsx scripts/gen-config.ts          validate + generate
//   tsx scripts/gen-config.ts --check  validate only
//   tsx scripts/gen-config.ts --config other/devs.json   validate (and generate from) another file
// Exits 1 with every problem listed (file, JSON path, value, rule) when devs.json is invalid.
import { writeFileSync, readFileSync, existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { ConfigError, loadDevsConfig, renderDevsModule as render, ROOT, DEVS_JSON } from "./lib/devs-config.js"
import { writeBuildInfo } from "./lib/build-info.js"
import { HA_MODULE, renderHaModule } from "./lib/ha-templates.js"

const OUT = join(ROOT, "src", "config", "devs.gen.ts")

try {
    const i = process.argv.indexOf("--config")
    const cfg = loadDevsConfig(i > 0 ? process.argv[i + 1] : DEVS_JSON)
    if (process.argv.includes("--check")) {
        console.log("devs.json: valid")
    } else {
        mkdirSync(join(ROOT, "src", "config"), { recursive: true })
        for (const [file, text] of [[OUT, render(cfg)], [HA_MODULE, renderHaModule(cfg)]])
            if (!existsSync(file) || readFileSync(file, "utf8") !== text) writeFileSync(file, text)
        writeBuildInfo() // src/config/build.gen.ts: the commit, the firmware's software version
    }
} catch (err) {
    if (err instanceof ConfigError) {
        console.error(err.message)
        process.exit(1)
    }
    throw err
}
