// `npm run check:boards [files...]`: validates board files strictly (all of boards/*.board.json
// without arguments). Every problem of every file is printed, naming the file, the JSON path of
// the key and the rule; exit code 1 if any file has a problem, 2 if a named file is missing.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"
import { checkBoard, formatProblems } from "./lib/board-rules.js"
import { ROOT } from "./lib/devs-config.js"

const BOARDS_DIR = join(ROOT, "boards")
const args = process.argv.slice(2)
const files = args.length
    ? args.map(a => resolve(a))
    : readdirSync(BOARDS_DIR)
          .filter(f => f.endsWith(".board.json"))
          .sort()
          .map(f => join(BOARDS_DIR, f))

if (!files.length) {
    console.error(`check:boards: no *.board.json files in ${relative(process.cwd(), BOARDS_DIR) || "."}`)
    process.exit(2)
}

let bad = 0
for (const file of files) {
    const name = relative(process.cwd(), file) || file
    if (!existsSync(file)) {
        console.error(`${name}: file not found`)
        process.exit(2)
    }
    let parsed: unknown
    try {
        parsed = JSON.parse(readFileSync(file, "utf8"))
    } catch (err: any) {
        console.error(`${name}: /: not valid JSON: ${err.message} [json]`)
        bad++
        continue
    }
    const problems = checkBoard(parsed)
    if (problems.length) {
        bad++
        for (const line of formatProblems(name, problems)) console.error(line)
    } else console.log(`${name}: ok`)
}
if (bad) {
    console.error(`check:boards: ${bad} of ${files.length} board file(s) invalid`)
    process.exit(1)
}
console.log(`check:boards: ${files.length} board file(s) valid`)
