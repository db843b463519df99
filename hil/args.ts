// Arguments of `npm run hil`; every refusal names the bad value.
import { parseArgs } from "node:util"

export const HIL_USAGE =
    "usage: npm run hil -- <scenario.json> (--port <serial path> | --hub tcp://HOST:PORT) [--out DIR] [--compare] [--until S] [--no-reset] [--keep-state] [--verbose]"

export interface HilArgs {
    help: boolean
    scenario: string
    port?: string
    hub?: string
    out?: string
    compare: boolean
    untilS?: number
    reset: boolean
    clearState: boolean
    verbose: boolean
}

export function parseHilArgs(argv: string[]): HilArgs | string {
    let p
    try {
        p = parseArgs({
            args: argv,
            allowPositionals: true,
            strict: true,
            options: {
                port: { type: "string" },
                hub: { type: "string" },
                out: { type: "string" },
                compare: { type: "boolean" },
                until: { type: "string" },
                "no-reset": { type: "boolean" },
                "keep-state": { type: "boolean" },
                verbose: { type: "boolean" },
                help: { type: "boolean" },
            },
        })
    } catch (err: any) {
        return err.message
    }
    const v = p.values
    const base = { compare: !!v.compare, reset: !v["no-reset"], clearState: !v["keep-state"], verbose: !!v.verbose }
    if (v.help) return { ...base, help: true, scenario: "" }
    if (p.positionals.length !== 1) return `one scenario file expected (got ${p.positionals.length})`
    if ((v.port === undefined) === (v.hub === undefined)) return "give exactly one of --port <serial path> or --hub tcp://HOST:PORT"
    let untilS: number | undefined
    if (v.until !== undefined) {
        untilS = Number(v.until)
        if (!(untilS > 0)) return `--until ${JSON.stringify(v.until)}: must be a number of seconds > 0`
    }
    return { ...base, help: false, scenario: p.positionals[0], port: v.port, hub: v.hub, out: v.out, untilS }
}
