// Child process of tests/sim/echonet-e2e.test.ts, run inside the controller's network namespace:
// an ECHONET Lite controller from a code base this project did not write (node-echonet-lite
// 0.6.0, LAN mode), driven over the IPC channel. Requests: {op, ...} -> {re: n, ...}; every
// notification it receives is forwarded as {notify}.
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const EchonetLite = require("node-echonet-lite")
const netif = process.argv[2]
const el = new EchonetLite({ type: "lan", netif })

const reply = (re: number, m: any) => process.send!({ re, ...m })
const propsOf = (res: any) => res.message.prop.map((p: any) => ({ epc: p.epc, hex: p.buffer ? Buffer.from(p.buffer).toString("hex") : "" }))

el.on("notify", (res: any) => {
    process.send!({ notify: { at: Date.now(), esv: res.message.esv, seoj: res.message.seoj, address: res.device.address, props: propsOf(res) } })
})

el.init((err: any) => {
    if (err) {
        process.send!({ error: `init: ${err.message}` })
        process.exit(1)
    }
    process.send!({ ready: true })
})

process.on("message", (m: any) => {
    const timeout = setTimeout(() => reply(m.re, { error: "no answer within 5 s" }), 5000)
    const done = (x: any) => {
        clearTimeout(timeout)
        reply(m.re, x)
    }
    if (m.op === "discover") {
        el.startDiscovery((err: any, res: any) => {
            if (err) return done({ error: err.message })
            el.stopDiscovery()
            done({ address: res.device.address, eoj: res.device.eoj, esv: res.message.esv })
        })
    } else if (m.op === "send") {
        const props = m.props.map((p: any) => ({ epc: p.epc, edt: p.hex ? Buffer.from(p.hex, "hex") : null }))
        el.send(m.address, m.eoj, m.esv, props, (err: any, res: any) => {
            if (err) return done({ error: err.message })
            done({ esv: res.message.esv, tid: res.message.tid, seoj: res.message.seoj, props: propsOf(res) })
        })
    } else if (m.op === "close") {
        el.close(() => {
            done({ closed: true })
            setTimeout(() => process.exit(0), 50)
        })
    }
})
