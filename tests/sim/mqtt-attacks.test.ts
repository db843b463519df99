// The relayed MQTT attacks (tests/helpers/relayed-attacks.ts) against aedes, a broker npm
// installs, running in this process on a free loopback port with its default options (no
// message size limit). `npm run test:mosquitto` runs the same suite against the system's mosquitto.
import { createServer } from "node:net"
import { Aedes } from "aedes"
import { relayedAttackSuite } from "../helpers/relayed-attacks"

relayedAttackSuite("aedes", async () => {
    const broker = await Aedes.createBroker()
    const server = createServer(broker.handle)
    await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()))
    return {
        port: (server.address() as any).port,
        async stop() {
            for (const c of Object.values((broker as any).clients)) (c as any).conn.destroy()
            await new Promise(r => server.close(r))
            await new Promise(r => broker.close(r))
        },
    }
})
