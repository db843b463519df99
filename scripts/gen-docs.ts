// Writes docs/config.md (the devs.json reference) from devs.schema.json and devs.json.
//   tsx scripts/gen-docs.ts          write it
//   tsx scripts/gen-docs.ts --check  exit 1 if the committed file is stale
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, relative } from "node:path"
import { CONFIG_DOC, renderConfigDoc } from "./lib/config-docs.js"
import { ROOT } from "./lib/devs-config.js"

const text = renderConfigDoc()
const current = existsSync(CONFIG_DOC) ? readFileSync(CONFIG_DOC, "utf8") : undefined
const name = relative(ROOT, CONFIG_DOC)
if (process.argv.includes("--check")) {
    if (current !== text) {
        console.error(`${name} is stale: run \`npm run gen:docs\``)
        process.exit(1)
    }
    console.log(`${name}: up to date`)
} else if (current !== text) {
    mkdirSync(dirname(CONFIG_DOC), { recursive: true })
    writeFileSync(CONFIG_DOC, text)
    console.log(`wrote ${name}`)
} else console.log(`${name}: up to date`)
