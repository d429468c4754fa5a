/**
 * Identifier allocation (RFC 5080 §2.2.1): an Identifier is unique among the requests outstanding
 * from one source address and port to one server; a retransmission keeps its Identifier and its
 * bytes; new content gets a new Identifier. The pool hands out the next free one round-robin, so a
 * just-released Identifier is the last to come back (a late answer to it then matches nothing).
 */

/** The 256 Identifiers of one (client socket, server) pair. */
export class IdentifierPool {
  private readonly inUse = new Set<number>();
  private next: number;

  /** `start` is where allocation begins (random in production, so restarts do not replay Identifiers). */
  constructor(start = 0) {
    this.next = start & 0xff;
  }

  /** A free Identifier, or undefined when all 256 are outstanding. */
  allocate(): number | undefined {
    if (this.inUse.size >= 256) return undefined;
    while (this.inUse.has(this.next)) this.next = (this.next + 1) & 0xff;
    const id = this.next;
    this.inUse.add(id);
    this.next = (id + 1) & 0xff;
    return id;
  }

  /** Frees an Identifier once its exchange is over (answered or given up). */
  release(id: number): void {
    this.inUse.delete(id);
  }

  /** How many are outstanding. */
  get outstanding(): number {
    return this.inUse.size;
  }
}
