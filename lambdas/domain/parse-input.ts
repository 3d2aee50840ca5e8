/**
 * One way to read an input the code did not build itself (a workflow request, a step event, a
 * node-action payload): every problem listed with its path and the value given, never retried.
 */
import type * as z from 'zod';
import { describeIssues } from './config.ts';
import { InvalidInputError } from './errors.ts';

/** An input refused, with every problem found (a caller that answers instead of throwing). */
export interface Refused {
  readonly ok: false;
  readonly problems: readonly string[];
}

/** `input` as `schema` reads it; otherwise InvalidInputError(`invalid ${what}`) listing every problem. */
export function parseInput<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
  rootLabel: string,
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidInputError(`invalid ${what}`, describeIssues(result.error.issues, input, rootLabel));
}
