// Runs the pinned DeviceScript CLI (node_modules/@devicescript/cli) directly with node,
// not through npx, so that its pid is ours and its exit code is the CLI's.
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { ROOT } from "./devs-config.js"

const require = createRequire(import.meta.url)
export const DEVS_CLI = require.resolve("@devicescript/cli/built/devicescript-cli.cjs", { paths: [ROOT] })

export interface CliResult {
    code: number
    output: string
}

/** Runs `devicescript <args>` in the project root (or `cwd`); collects stdout+stderr (ANSI colours stripped). */
export function runDevs(args: string[], opts: { echo?: boolean; cwd?: string } = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [DEVS_CLI, ...args], {
            cwd: opts.cwd ?? ROOT,
            env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
            stdio: ["ignore", "pipe", "pipe"],
        })
        let output = ""
        const take = (chunk: Buffer) => {
            const text = chunk.toString("utf8").replace(/\x1b\[[0-9;]*m/g, "")
            output += text
            if (opts.echo) process.stdout.write(text)
        }
        child.stdout.on("data", take)
        child.stderr.on("data", take)
        child.on("error", reject)
        child.on("close", code => resolve({ code: code ?? 1, output }))
    })
}
