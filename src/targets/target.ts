/**
 * What every target shares: the options some of them need, and the error a target raises when
 * a spec has something the target's format cannot say (the CLI reports it, exit status 2).
 */

export interface TargetOptions {
  /** Where the generated script is installed (the systemd unit runs it). */
  scriptPath?: string;
}

/** A valid spec that a target cannot express: every reason at once, each naming its field. */
export class TargetError extends Error {
  constructor(
    readonly target: string,
    readonly problems: string[],
  ) {
    super(`unshared: cannot build the ${target} target:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TargetError';
  }
}
