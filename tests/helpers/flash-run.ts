// Shared by the flash tests: run `scripts/flash.ts` as a user would (spawned, exit code and
// output), and write a dummy runtime image.
import { spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { ROOT } from "../../scripts/lib/devs-config"

export function runFlash(args: string[], env: Record<string, string>, timeoutMs: number) {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/flash.ts", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, ...env },
        timeout: timeoutMs,
    })
    return { code: r.status, out: r.stdout, err: r.stderr }
}

/** A 128 KiB image of 0xff whose first byte is firstByte (0xe9 = an ESP image). */
export function dummyImage(dir: string, name: string, firstByte: number): string {
    const p = join(dir, name)
    const b = Buffer.alloc(0x20000, 0xff)
    b[0] = firstByte
    writeFileSync(p, b)
    return p
}
