// The node's UDP socket: port 3610 on every address, the ECHONET Lite multicast group joined on
// one interface (--interface) or the one the multicast route picks, replies to the requester's
// address and port. Multicast goes out with TTL 1: it stays on the local link.
import { createSocket, type Socket } from "node:dgram"
import { EL_MULTICAST, EL_PORT } from "./frame"
import type { Peer } from "./node"

export interface UdpOptions {
    /** Local port; default 3610 (tests use 0: any free port). */
    port?: number
    /** IPv4 address of the interface for multicast (joined and sent from); default: the route's. */
    interfaceAddress?: string
    /** Where "to everyone" goes; default 224.0.23.0:3610 (tests: a loopback peer). */
    multicast?: Peer
    /** Join the multicast group (default true). */
    join?: boolean
    /** Bind address; default all (0.0.0.0), needed to receive multicast. */
    bindAddress?: string
}

export interface UdpEndpoint {
    port: number
    send(bytes: Uint8Array, to: Peer | null): void
    close(): Promise<void>
}

export async function openUdp(opts: UdpOptions, onMessage: (bytes: Uint8Array, from: Peer) => void, log: (l: string) => void): Promise<UdpEndpoint> {
    const sock: Socket = createSocket({ type: "udp4" })
    const group = opts.multicast ?? { address: EL_MULTICAST, port: EL_PORT }
    await new Promise<void>((resolve, reject) => {
        sock.once("error", reject)
        sock.bind(opts.port ?? EL_PORT, opts.bindAddress, () => {
            sock.off("error", reject)
            resolve()
        })
    })
    try {
        if (opts.join !== false) sock.addMembership(group.address, opts.interfaceAddress)
        if (opts.interfaceAddress) sock.setMulticastInterface(opts.interfaceAddress)
        sock.setMulticastTTL(1)
        sock.setMulticastLoopback(false)
    } catch (e) {
        sock.close()
        throw new Error(`cannot join ${group.address} on ${opts.interfaceAddress ?? "the default interface"}: ${(e as Error).message}`)
    }
    sock.on("error", e => log(`udp: ${e.message}`))
    sock.on("message", (msg, rinfo) => onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), { address: rinfo.address, port: rinfo.port }))
    return {
        port: sock.address().port,
        send(bytes, to) {
            const t = to ?? group
            sock.send(bytes, t.port, t.address, err => err && log(`udp: send to ${t.address}:${t.port} failed: ${err.message}`))
        },
        close: () => new Promise<void>(r => sock.close(() => r())),
    }
}
