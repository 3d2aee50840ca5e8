/** What every command receives: the configuration, the ports, time, and where to write. */
import type { FailoverConfig } from '../lambdas/domain/config.ts';
import type { Clock } from '../lambdas/domain/ports.ts';
import type { GlobalOptions } from './args.ts';
import type { Output } from './output.ts';
import type { CliServices } from './services.ts';

export interface CommandContext {
  readonly config: FailoverConfig;
  readonly globals: GlobalOptions;
  readonly services: CliServices;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  /** Who runs the command, for history, notifications and default reasons (`user@host`). */
  readonly actor: string;
  readonly out: Output;
  /** How often `--wait` polls the execution. */
  readonly pollIntervalMs: number;
}
