/**
 * The probe the game day runs: the project's own PostgreSQL probe (the stack's probe code),
 * publishing Healthy / Writable / ReplicationLagSeconds / ReplicationLagBytes for every node of the
 * game day's services to moto's CloudWatch every PROBE_INTERVAL_SECONDS.
 */
import type { ProbeFactory } from './harness.ts';

export const gameDayProbe: ProbeFactory = () => {
  throw new Error(
    'the PostgreSQL probe is not part of this build yet: the game day publishes health and lag only through the stack probe code',
  );
};
