/**
 * Splits a byte stream into VICI segments (README "Transport protocol": 32-bit big-endian length of
 * the data, then the data). Keeps leftover bytes between chunks. A length above the limit cannot be
 * a real segment and the stream cannot be resynchronised, so the framer fails for good.
 */
import { ViciDecodeError } from './errors';
import { MAX_SEGMENT_LENGTH } from './packet-codec';

const HEADER = 4;

export class ViciFramer {
  private pending: Buffer = Buffer.alloc(0);
  private failed: ViciDecodeError | undefined;

  constructor(private readonly maxLength = MAX_SEGMENT_LENGTH) {}

  /** Adds a chunk; returns every complete segment payload, or an error once the stream is broken. */
  push(chunk: Uint8Array): Buffer[] | ViciDecodeError {
    if (this.failed) return this.failed;
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    let off = 0;
    while (this.pending.length - off >= HEADER) {
      const len = this.pending.readUInt32BE(off);
      if (len > this.maxLength) {
        this.failed = new ViciDecodeError('frame-too-large', `segment length ${len} exceeds ${this.maxLength}`, off);
        this.pending = Buffer.alloc(0);
        return this.failed;
      }
      if (this.pending.length - off - HEADER < len) break;
      // Copy so a retained payload does not pin (or alias) the whole receive buffer.
      out.push(Buffer.from(this.pending.subarray(off + HEADER, off + HEADER + len)));
      off += HEADER + len;
    }
    this.pending = this.pending.subarray(off);
    return out;
  }

  /** Bytes received but not yet part of a complete segment. */
  get bufferedBytes(): number {
    return this.pending.length;
  }
}
