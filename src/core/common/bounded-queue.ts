// A first-in first-out queue with a fixed capacity: pushing onto a full queue drops the oldest
// item and counts it. Outgoing MQTT events wait here while the broker is unreachable, so a long
// outage costs bounded memory (the device heap is 32-64 KB).
//
// Pure; DeviceScript subset.

export class BoundedQueue<T> {
    private items: T[] = []
    /** Items dropped (oldest first) because the queue was full, since creation. */
    dropped = 0

    constructor(readonly capacity: number) {}

    size(): number {
        return this.items.length
    }

    /** Appends; when full, drops the oldest first. Returns true when an item was dropped. */
    push(item: T): boolean {
        let dropped = false
        while (this.items.length >= this.capacity && this.items.length > 0) {
            this.items.shift()
            this.dropped++
            dropped = true
        }
        if (this.capacity > 0) this.items.push(item)
        else {
            this.dropped++
            dropped = true
        }
        return dropped
    }

    /** The oldest item without removing it (undefined when empty). */
    peek(): T {
        return this.items.length ? this.items[0] : undefined
    }

    /** Removes and returns the oldest item (undefined when empty). */
    shift(): T {
        return this.items.length ? this.items.shift() : undefined
    }
}
