// The gateway's command line (gateway/echonet/cli.ts): every bad argument is named, exit code 2.
import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { parseArgs } from "../../gateway/echonet/cli"
import { ROOT } from "../../scripts/lib/devs-config"

const LOCAL = ["127.0.0.1", "192.168.1.20"]
const ok = ["--broker", "mqtt://hems:pw@broker.lan:1884", "--prefix", "charger/c0ffee00c0ffee01"]

describe("gateway:echonet arguments", () => {
    it("reads the broker URL with credentials, the prefix, the interface and the battery size", () => {
        expect(parseArgs([...ok, "--interface", "192.168.1.20", "--battery-wh=62000"], LOCAL)).toEqual({
            broker: { mqttHost: "broker.lan", mqttPort: 1884, mqttTls: false, mqttUser: "hems", mqttPass: "pw", mqttPrefix: "charger/c0ffee00c0ffee01" },
            prefix: "charger/c0ffee00c0ffee01",
            interfaceAddress: "192.168.1.20",
            batteryWh: 62000,
        })
        expect(parseArgs(["--broker", "mqtts://b", "--prefix", "p"], LOCAL)).toMatchObject({ broker: { mqttTls: true, mqttPort: 8883 }, batteryWh: 40000 })
    })

    it("names the bad value", () => {
        const cases: [string[], RegExp][] = [
            [[], /--broker is required/],
            [["--broker", "mqtt://b"], /--prefix is required/],
            [["--broker", "http://b", "--prefix", "p"], /"http:": the scheme must be mqtt:/],
            [["--broker", "not a url", "--prefix", "p"], /"not a url" is not a URL/],
            [["--broker", "mqtt://b", "--prefix", "a/+/b"], /prefix "a\/\+\/b"/],
            [[...ok, "--interface", "eth0"], /--interface "eth0": not an IPv4 address/],
            [[...ok, "--interface", "10.9.9.9"], /--interface 10.9.9.9: no interface of this machine has that address/],
            [[...ok, "--battery-wh", "lots"], /--battery-wh "lots"/],
            [[...ok, "--battery-wh", "50"], /--battery-wh "50": a whole number of Wh, 1000..1000000/],
            [[...ok, "--port", "3610"], /unknown argument "--port"/],
            [[...ok, "--prefix", "x"], /--prefix given twice/],
            [["--broker"], /--broker needs a value/],
        ]
        for (const [argv, why] of cases) expect(parseArgs(argv, LOCAL), argv.join(" ")).toMatch(why)
    })

    it("the program exits 2 with the reason and the usage on stderr", () => {
        const r = spawnSync(process.execPath, ["--import", "tsx", "gateway/echonet/cli.ts", "--broker", "mqtt://b:99999", "--prefix", "p"], { cwd: ROOT, encoding: "utf8" })
        expect(r.status).toBe(2)
        expect(r.stderr).toMatch(/gateway:echonet: --broker\/--prefix: .*99999|Invalid URL|not a URL/)
        expect(r.stderr).toMatch(/usage: npm run gateway:echonet/)
    })
})
