/**
 * Every error the project throws on purpose. Names are part of the contract: Step Functions
 * `Retry`/`Catch` match on them, and operators read them in notifications.
 */

export class FailoverError extends Error {
  override readonly name: string = 'FailoverError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One problem in a configuration: where, what, and the value that was given. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  readonly value: unknown;
}

export class ConfigValidationError extends FailoverError {
  override readonly name = 'ConfigValidationError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid failover configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.path}: ${p.message}, got: ${formatValue(p.value)}`)
        .join('\n')}`,
    );
  }
}

/** An event or workflow input that fails validation. Never retried: the same input fails the same way. */
export class InvalidInputError extends FailoverError {
  override readonly name = 'InvalidInputError';

  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length ? `${message}: ${problems.join('; ')}` : message);
  }
}

export class UnknownServiceError extends FailoverError {
  override readonly name = 'UnknownServiceError';

  constructor(readonly serviceId: string) {
    super(`unknown service: ${JSON.stringify(serviceId)}`);
  }
}

/** The lease is held by someone else, or the epoch moved: another operation won. */
export class LeaseConflictError extends FailoverError {
  override readonly name: string = 'LeaseConflictError';

  constructor(
    readonly serviceId: string,
    readonly expectedEpoch: number,
    /** `detail`: who holds the lease and until when, when the caller knows (the workflow does). */
    options?: { cause?: unknown; detail?: string },
  ) {
    super(
      `lease on ${serviceId} not acquired: ${options?.detail ?? `epoch is no longer ${expectedEpoch} or another operation holds it`}`,
      options,
    );
  }
}

/** The automatic path's lease was refused because the service is paused (AcquireLeaseRequest.unlessPaused). */
export class LeasePausedError extends LeaseConflictError {
  override readonly name = 'LeasePausedError';

  constructor(serviceId: string, expectedEpoch: number, options?: { cause?: unknown }) {
    super(serviceId, expectedEpoch, { ...options, detail: 'automatic failover is paused' });
  }
}

/** A rejoin mark could not be cleared: the epoch moved, or the node is not marked (any more). */
export class RejoinConflictError extends FailoverError {
  override readonly name = 'RejoinConflictError';

  constructor(
    readonly serviceId: string,
    readonly nodeId: string,
    readonly expectedEpoch: number,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(
      `rejoin of ${serviceId}/${nodeId} at epoch ${expectedEpoch} not recorded: ${options?.detail ?? 'the epoch moved or the node is not marked needs-rejoin'}`,
      options,
    );
  }
}

/**
 * A resume conditioned on the pause it read (PauseExpectation) found another: paused again (a
 * rollback, a needs-attention path) or resumed meanwhile. Nothing was written.
 */
export class PauseChangedError extends FailoverError {
  override readonly name = 'PauseChangedError';

  constructor(
    readonly serviceId: string,
    options?: { cause?: unknown },
  ) {
    super(`pause of ${serviceId} changed after it was read: not resumed`, options);
  }
}

/** A commit or release by a holder whose lease expired or was taken over: the fencing token is stale. */
export class LeaseLostError extends FailoverError {
  override readonly name = 'LeaseLostError';

  constructor(
    readonly serviceId: string,
    readonly holder: string,
    options?: { cause?: unknown; refusing?: string },
  ) {
    super(
      `lease on ${serviceId} is no longer held by ${holder}: refusing to ${options?.refusing ?? 'commit with a stale fencing token'}`,
      options?.cause !== undefined ? { cause: options.cause } : undefined,
    );
  }
}

/** The router did not point where we expected (Route 53 exact-value DELETE failed): someone else moved it. */
export class TrafficConflictError extends FailoverError {
  override readonly name = 'TrafficConflictError';

  constructor(
    readonly serviceId: string,
    readonly observed: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`traffic for ${serviceId} was not where expected (observed: ${observed ?? 'unknown'})`, options);
  }
}

export class TrafficShiftError extends FailoverError {
  override readonly name = 'TrafficShiftError';

  constructor(
    readonly serviceId: string,
    message: string,
    readonly uncertain: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Throttling, 5xx, timeouts: worth retrying with backoff. */
export class TransientAwsError extends FailoverError {
  override readonly name = 'TransientAwsError';

  constructor(
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(`transient AWS error in ${operation}: ${describeCause(options?.cause)}`, options);
  }
}

export class HookFailedError extends FailoverError {
  override readonly name = 'HookFailedError';

  constructor(
    readonly hook: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${hook} hook failed: ${message}`, options);
  }
}

/**
 * A node action (fence, promote, demote) ended in failure or did not finish in its time: the
 * step fails and the role change rolls back. `status` is the action's result status.
 */
export class NodeActionFailedError extends FailoverError {
  override readonly name = 'NodeActionFailedError';

  constructor(
    readonly kind: string,
    readonly status: 'failed' | 'timed-out',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind} action ${status}: ${message}`, options);
  }
}

export class PreconditionFailedError extends FailoverError {
  override readonly name = 'PreconditionFailedError';
}

export class CatchUpTimeoutError extends FailoverError {
  override readonly name = 'CatchUpTimeoutError';
}

export class VerificationFailedError extends FailoverError {
  override readonly name = 'VerificationFailedError';
}

/** Rollback could not finish: the message says which state the service is in and what a human must do. */
export class RollbackFailedError extends FailoverError {
  override readonly name = 'RollbackFailedError';
}

/**
 * A command line the operator CLI cannot run as given: unknown command or flag, a missing or bad
 * argument, an unknown node. The CLI exits with status 2 and shows the command's usage.
 */
export class UsageError extends FailoverError {
  override readonly name = 'UsageError';

  constructor(
    message: string,
    /** The command whose usage to show; undefined for the top-level usage. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/**
 * A rollback refused because it would contradict the record: the role change it would undo is
 * already committed (or the epoch moved on). Moving traffic back now would leave the record naming
 * one node and traffic on another; the workflow stops and reports instead.
 */
export class RollbackRefusedError extends FailoverError {
  override readonly name = 'RollbackRefusedError';

  constructor(
    readonly serviceId: string,
    message: string,
  ) {
    super(message);
  }
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}

export function formatValue(v: unknown): string {
  if (v === undefined) return '(missing)';
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * A database secret that is not JSON or lacks a field the probe or a SQL node action needs. Names
 * the secret and the missing fields, never a value.
 */
export class SecretFormatError extends FailoverError {
  override readonly name = 'SecretFormatError';

  constructor(
    readonly secretArn: string,
    readonly missingFields: readonly string[],
    detail?: string,
  ) {
    super(
      `secret ${secretArn} ${detail ?? `lacks the field${missingFields.length === 1 ? '' : 's'} ${missingFields.join(', ')}`}`,
    );
  }
}

/** A database or appliance that did not answer a probe check or a SQL node action in time. */
export class NodeTimeoutError extends FailoverError {
  override readonly name = 'NodeTimeoutError';
}

/** The node probe could not do its job in a way an operator must fix (a secret's fields, publishing). */
export class ProbeFailedError extends FailoverError {
  override readonly name = 'ProbeFailedError';
}
