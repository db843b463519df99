/**
 * A relay or contactor contact shared by the outlet and inverter models.
 * The contact follows its command after `delayS`; a welded contact stays closed whatever the command.
 * `closed` is the actual contact state, i.e. what an auxiliary feedback contact reports.
 */

/** Tolerance for comparing accumulated float times (s). */
export const TIME_EPS_S = 1e-9

export interface RelayState {
    cmd: boolean // last command seen
    sinceCmdS: number // time since `cmd` last changed
    closed: boolean // actual contact state (feedback)
    welded: boolean // fault: contact stuck closed
}

export interface RelayStep {
    relay: RelayState
    /** Offset from the start of the step at which the contact went open -> closed, or null if it did not. */
    closedAfterS: number | null
}

export function initialRelay(closed = false): RelayState {
    return { cmd: closed, sinceCmdS: 0, closed, welded: false }
}

/** Advances a contact by dtS under a command held constant over the step (applied at the start of the step). */
export function stepRelay(delayS: number, relay: RelayState, dtS: number, cmd: boolean): RelayStep {
    const sinceCmdS = cmd === relay.cmd ? relay.sinceCmdS : 0
    const afterS = sinceCmdS + dtS
    if (relay.welded) return { relay: { cmd, sinceCmdS: afterS, closed: true, welded: true }, closedAfterS: null }
    let closed = relay.closed
    let closedAfterS: number | null = null
    if (closed !== cmd && afterS >= delayS - TIME_EPS_S) {
        closed = cmd
        if (closed) closedAfterS = Math.max(0, delayS - sinceCmdS)
    }
    return { relay: { cmd, sinceCmdS: afterS, closed, welded: false }, closedAfterS }
}

/**
 * Sets or clears the welded fault. Welding closes the contact at once; clearing it lets the contact follow
 * its command again, moving `delayS` after now if the command differs.
 */
export function setRelayWelded(relay: RelayState, welded: boolean): { relay: RelayState; justClosed: boolean } {
    if (welded) return { relay: { ...relay, closed: true, welded: true }, justClosed: !relay.closed }
    return { relay: { ...relay, sinceCmdS: 0, welded: false }, justClosed: false }
}
