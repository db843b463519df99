// Reads scenario files (simulator and hardware-in-the-loop bench). The format is docs/scenarios.md;
// the types are types.ts, the validation validate.ts. Unreadable files and JSON syntax
// errors (with line and column) are ScenarioErrors like every other problem.
import { readFileSync } from "node:fs"
import { parseJsonText } from "../../scripts/lib/schema-errors"
import { ScenarioError, type Scenario, type ValidateOptions } from "./types"
import { validateScenario } from "./validate"

/** Reads, parses and validates a scenario file. */
export function loadScenario(path: string, options: ValidateOptions = {}): Scenario {
    let text: string
    try {
        text = readFileSync(path, "utf8")
    } catch (err: any) {
        throw new ScenarioError(path, [`cannot read file: ${err.message}`])
    }
    const parsed = parseJsonText(text)
    if ("problem" in parsed) throw new ScenarioError(path, [parsed.problem])
    return validateScenario(parsed.value, path, options)
}

/** For command-line tools: the scenario, or its problems printed and the process ended with code 2. */
export function loadScenarioOrExit(path: string): Scenario {
    try {
        return loadScenario(path)
    } catch (err) {
        if (err instanceof ScenarioError) {
            console.error(err.message)
            process.exit(2)
        }
        throw err
    }
}
