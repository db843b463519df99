// The gateway: the ECHONET Lite node (node.ts) on its UDP socket (udp.ts), the charger behind
// MQTT (mqtt-side.ts). It also keeps an ECHONET Lite setting alive: ECHONET Lite controllers set
// an operation mode once, while the firmware falls back after v2h.commandTimeoutMs without a
// command (its safety net for a HEMS that went away). So the gateway repeats the last accepted
// command every refreshMs, but only while the charger still follows it (nobody else changed the
// mode) and only while an ECHONET Lite controller has been heard within controllerSilenceMs: a
// controller that went quiet lets the firmware's fallback happen, as the firmware intends.
import { createHash } from "node:crypto"
import { ChargerLink, type LinkOptions } from "./mqtt-side"
import { EchonetNode, type CommandResult, type Peer } from "./node"
import { openUdp, type UdpEndpoint, type UdpOptions } from "./udp"

export interface GatewayOptions {
    link: Omit<LinkOptions, "log">
    udp: UdpOptions
    batteryWh: number
    manufacturerCode: number
    refreshMs: number
    controllerSilenceMs: number
    log(line: string): void
}

/** Defaults (documented in docs/echonet-gateway.md). */
export const GATEWAY_DEFAULTS = {
    /** Usable capacity of the vehicle battery (a 40 kWh e-NV200 class battery), Wh. */
    batteryWh: 40000,
    /** 0xFFFFFF: no maker code registered with the ECHONET Consortium; a maker puts its own. */
    manufacturerCode: 0xffffff,
    /** Well inside the firmware's default command timeout (v2h.commandTimeoutMs 60 s). */
    refreshMs: 20000,
    controllerSilenceMs: 300000,
    commandTimeoutMs: 5000,
}

export class Gateway {
    readonly link: ChargerLink
    readonly node: EchonetNode
    private udp: UdpEndpoint | null = null
    private lastCommand: any = null
    private heardAtMs = -Infinity
    /** A status has shown lastCommand followed since it was accepted. */
    private confirmed = false
    private refreshTimer: NodeJS.Timeout | null = null

    constructor(private readonly o: GatewayOptions) {
        this.link = new ChargerLink({ ...o.link, log: o.log })
        const uniqueId = createHash("sha256").update(`v2h-charger ${o.link.prefix}`).digest().subarray(0, 13)
        this.node = new EchonetNode(
            { manufacturerCode: o.manufacturerCode, uniqueId: new Uint8Array(uniqueId), batteryWh: o.batteryWh },
            {
                view: () => this.link.view(),
                send: (bytes, to) => this.udp?.send(bytes, to),
                command: cmd => this.command(cmd),
                log: o.log,
            },
        )
        this.link.on("change", () => {
            this.node.statusChanged()
            if (this.lastCommand && !this.confirmed && this.stillFollowed(this.lastCommand)) this.confirmed = true
        })
    }

    private async command(cmd: any): Promise<CommandResult> {
        const r = await this.link.command(cmd)
        if (r.ok) {
            this.lastCommand = cmd
            this.confirmed = false
        }
        return r
    }

    /** Whether the charger still does what the last command said. */
    private stillFollowed(cmd: any): boolean {
        const st = this.link.view().status
        if (!st) return false
        if (cmd.mode !== st.mode) return false
        return cmd.setpoint_w === undefined || cmd.setpoint_w === st.setpoint_w
    }

    private async refresh() {
        const cmd = this.lastCommand
        if (!cmd || !this.link.view().online) return
        // Until a status shows the command followed, the charger's status may still be the one
        // from before it (the firmware shows a command after its next tick and publish): no
        // verdict and no repeat yet. Judged on that older status, the command was dropped for good.
        if (!this.confirmed && !this.stillFollowed(cmd)) return
        this.confirmed = true
        if (!this.stillFollowed(cmd)) {
            this.lastCommand = null // the firmware fell back, or another HEMS took over
            return
        }
        if (Date.now() - this.heardAtMs > this.o.controllerSilenceMs) return
        const r = await this.link.command(cmd)
        if (!r.ok) this.o.log(`refresh of ${JSON.stringify(cmd)} failed: ${r.why}`)
    }

    async start(): Promise<number> {
        this.udp = await openUdp(
            this.o.udp,
            (bytes, from: Peer) => {
                // Only a request to this node counts as a controller being there.
                void this.node.receive(bytes, from).then(isRequest => {
                    if (isRequest) this.heardAtMs = Date.now()
                })
            },
            this.o.log,
        )
        this.link.start()
        this.node.announce()
        if (this.o.refreshMs > 0) this.refreshTimer = setInterval(() => void this.refresh(), this.o.refreshMs)
        return this.udp.port
    }

    async stop() {
        if (this.refreshTimer) clearInterval(this.refreshTimer)
        await this.link.stop()
        await this.udp?.close()
        this.udp = null
    }
}
