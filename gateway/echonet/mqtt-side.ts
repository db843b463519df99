// The MQTT side: the charger's retained status and online flag (its last will), its events, and
// commands on <prefix>/cmd, each with an "id" the firmware echoes in command_accepted /
// command_rejected (src/core/hems/command.ts). Reconnects with the firmware's backoff rules
// (src/core/common/backoff.ts, devs.json mqtt.backoff*). While the broker is unreachable or the charger
// is offline, the view says so: the node then answers SNA instead of stale values.
import { EventEmitter } from "node:events"
import mqtt, { type MqttClient } from "mqtt"
import type { BrokerSettings } from "../../sim/broker-url"
import { Backoff, type BackoffConfig } from "../../src/core/common/backoff"
import type { ChargerView } from "./mapping"
import type { CommandResult } from "./node"

export interface LinkOptions {
    broker: BrokerSettings
    prefix: string
    backoff: BackoffConfig
    /** How long a command waits for the firmware's verdict. */
    commandTimeoutMs: number
    connectTimeoutMs: number
    log(line: string): void
}

/** Emits "change" when the view changed (status, online flag, broker connection). */
export class ChargerLink extends EventEmitter {
    private client: MqttClient | null = null
    private status: any = null
    private onlineFlag = false
    private connected = false
    private stopped = false
    private retry: NodeJS.Timeout | null = null
    private seq = 0
    private readonly backoff: Backoff
    private readonly pending = new Map<string, { resolve: (r: CommandResult) => void; timer: NodeJS.Timeout }>()
    private readonly topics: { status: string; online: string; event: string; cmd: string }

    constructor(private readonly o: LinkOptions) {
        super()
        this.backoff = new Backoff(o.backoff)
        const p = o.prefix
        this.topics = { status: `${p}/status`, online: `${p}/status/online`, event: `${p}/event`, cmd: `${p}/cmd` }
    }

    view(): ChargerView {
        return { online: this.connected && this.onlineFlag && this.status !== null, status: this.status }
    }

    isConnected() {
        return this.connected
    }

    start() {
        const b = this.o.broker
        const url = `${b.mqttTls ? "mqtts" : "mqtt"}://${b.mqttHost.includes(":") ? `[${b.mqttHost}]` : b.mqttHost}:${b.mqttPort}`
        const client = mqtt.connect(url, {
            username: b.mqttUser,
            password: b.mqttPass,
            reconnectPeriod: 0, // our own backoff below
            connectTimeout: this.o.connectTimeoutMs,
            clientId: `echonet-gw-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
            clean: true,
        })
        this.client = client
        client.on("connect", () => {
            this.backoff.reset()
            client.subscribe([this.topics.status, this.topics.online, this.topics.event], { qos: 0 }, err => {
                if (err) {
                    this.o.log(`mqtt: subscribe failed: ${err.message}`)
                    client.end(true)
                    return
                }
                this.connected = true
                this.o.log(`mqtt: connected, listening under ${this.o.prefix}/`)
                this.emit("change")
            })
        })
        client.on("message", (topic, payload, packet) => this.onMessage(topic, payload.toString("utf8"), packet.retain))
        client.on("error", e => this.o.log(`mqtt: ${e.message}`))
        client.on("close", () => {
            const was = this.connected
            this.connected = false
            // Nothing known about the charger until the retained values arrive again.
            this.onlineFlag = false
            for (const [id, p] of this.pending) {
                clearTimeout(p.timer)
                p.resolve({ ok: false, why: "the broker connection was lost before the charger answered" })
                this.pending.delete(id)
            }
            if (was) this.emit("change")
            if (this.stopped || this.retry) return
            const delayMs = this.backoff.nextDelayMs(Math.random())
            this.o.log(`mqtt: broker unreachable or lost; next attempt in ${delayMs} ms`)
            this.retry = setTimeout(() => {
                this.retry = null
                if (!this.stopped) client.reconnect()
            }, delayMs)
        })
    }

    private onMessage(topic: string, text: string, retained: boolean) {
        if (topic === this.topics.online) {
            const v = text === "true"
            if (v !== this.onlineFlag) {
                this.onlineFlag = v
                this.o.log(`charger ${v ? "online" : "offline"}`)
                this.emit("change")
            }
        } else if (topic === this.topics.status) {
            try {
                const s = JSON.parse(text)
                if (s && typeof s === "object" && !Array.isArray(s)) {
                    this.status = s
                    this.emit("change")
                }
            } catch {
                this.o.log(`mqtt: ignored a status that is not JSON (${text.length} bytes)`)
            }
        } else if (topic === this.topics.event && !retained) {
            let ev: any
            try {
                ev = JSON.parse(text)
            } catch {
                return
            }
            const p = ev && typeof ev.id === "string" ? this.pending.get(ev.id) : undefined
            if (!p || (ev.event !== "command_accepted" && ev.event !== "command_rejected")) return
            clearTimeout(p.timer)
            this.pending.delete(ev.id)
            p.resolve(ev.event === "command_accepted" ? { ok: true, why: "" } : { ok: false, why: String(ev.reason ?? "rejected") })
        }
    }

    /** One command to the firmware; resolves with its verdict (or a timeout: then nothing is known). */
    command(cmd: any): Promise<CommandResult> {
        const client = this.client
        if (!client || !this.connected) return Promise.resolve({ ok: false, why: "not connected to the broker" })
        const id = `el-${process.pid}-${++this.seq}`
        return new Promise<CommandResult>(resolve => {
            const timer = setTimeout(() => {
                this.pending.delete(id)
                resolve({ ok: false, why: `no verdict from the charger within ${this.o.commandTimeoutMs} ms` })
            }, this.o.commandTimeoutMs)
            this.pending.set(id, { resolve, timer })
            client.publish(this.topics.cmd, JSON.stringify({ ...cmd, id }), { qos: 1, retain: false }, err => {
                if (!err) return
                clearTimeout(timer)
                this.pending.delete(id)
                resolve({ ok: false, why: `publish failed: ${err.message}` })
            })
        })
    }

    async stop() {
        this.stopped = true
        if (this.retry) clearTimeout(this.retry)
        for (const p of this.pending.values()) clearTimeout(p.timer)
        this.pending.clear()
        if (this.client) await this.client.endAsync(false).catch(() => {})
    }
}
