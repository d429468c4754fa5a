/**
 * Errors of the agent's OS adapters (TUN, link configuration, UDP). One family so that the
 * agent's entry point can tell "the host cannot run us" (exit with a clear message) from bugs.
 */
export class IoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Why a TUN device could not be opened or used. */
export type TunErrorCode =
  | 'no-tun-device' // /dev/net/tun missing (module not loaded, container without the device)
  | 'permission' // EPERM/EACCES: CAP_NET_ADMIN missing
  | 'name-busy' // EBUSY: another process holds the interface
  | 'invalid-name' // rejected before or by TUNSETIFF (EINVAL)
  | 'ffi-unavailable' // koffi or libc could not be loaded
  | 'io'; // any other system call failure

export class TunError extends IoError {
  constructor(
    readonly code: TunErrorCode,
    message: string,
    readonly ifname?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An `ip` (iproute2) command failed; `command` is the full command line for the operator. */
export class LinkConfigError extends IoError {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly exitCode: number | null,
    options?: { cause?: unknown },
  ) {
    super(`command failed: ${command}${stderr ? `: ${stderr.trim()}` : ''}`, options);
  }
}

/** A UDP socket could not be bound or used. */
export class UdpError extends IoError {
  constructor(
    message: string,
    readonly address: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
