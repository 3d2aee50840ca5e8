/**
 * Words for zod's configuration issues that tell the operator what to do: a missing field is
 * "required", an unknown key names the nearest key the schema knows at that place
 * (`recordname` -> `recordName`), and a number out of range says the bound (`must be at least 5`).
 *
 * Pure: zod only.
 */
import type * as z from 'zod';

type Def = {
  type?: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  out?: z.core.$ZodType;
  options?: readonly z.core.$ZodType[];
  valueType?: z.core.$ZodType;
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
};

const defOf = (schema: z.core.$ZodType): Def => (schema as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at `path` may be checked by (every branch of a union, both sides of a pipe). */
function objectsAt(schema: z.core.$ZodType, path: readonly PropertyKey[], depth = 0): z.core.$ZodType[] {
  if (depth > 64) return [];
  const def = defOf(schema);
  const next = (s: z.core.$ZodType | undefined, p = path) => (s ? objectsAt(s, p, depth + 1) : []);
  switch (def.type) {
    case 'object': {
      if (path.length === 0) return [schema];
      const [head, ...rest] = path;
      return next(def.shape?.[String(head)], rest);
    }
    case 'array':
      return path.length === 0 ? [] : next(def.element, path.slice(1));
    case 'record':
      return path.length === 0 ? [] : next(def.valueType, path.slice(1));
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return next(def.innerType);
    case 'pipe':
      return [...next(def.in), ...next(def.out)];
    case 'union':
      return (def.options ?? []).flatMap((o) => next(o));
    case 'intersection':
      return [...next(def.left), ...next(def.right)];
    case 'lazy':
      return def.getter ? next(def.getter()) : [];
    default:
      return [];
  }
}

/** Every key an object at `path` may have, by the schema. */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((o) => Object.keys(defOf(o).shape ?? {})))];
}

/** Levenshtein distance, case-insensitive (a wrong case counts as one edit, not zero). */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  let prev = Array.from({ length: lb.length + 1 }, (_, j) => j);
  for (let i = 1; i <= la.length; i++) {
    const cur = [i];
    for (let j = 1; j <= lb.length; j++) {
      const cost = la[i - 1] === lb[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  const d = prev[lb.length] ?? 0;
  return d === 0 ? 1 : d;
}

/** The known key closest to `key`, when it is close enough to be a typo. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(key, k);
    if (!best || d < best.d) best = { key: k, d };
  }
  if (!best) return undefined;
  return best.d <= Math.max(2, Math.floor(Math.max(key.length, best.key.length) / 3)) ? best.key : undefined;
}

export interface DescribedIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * One or more problems for a zod issue: zod's `Unrecognized keys: "a", "b"` becomes one problem per
 * key, at the key's own path, with the nearest known key when there is one.
 */
export function describeConfigIssue(
  issue: z.core.$ZodIssue,
  schema: z.core.$ZodType,
  /** The input's value at the issue's path. */
  value: unknown,
): DescribedIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(schema, issue.path);
    return issue.keys.map((key) => {
      const near = nearestKey(key, known);
      return {
        path: [...issue.path, key],
        message: near
          ? `unknown key (did you mean "${near}"?)`
          : `unknown key${known.length ? ` (known keys here: ${known.join(', ')})` : ''}`,
      };
    });
  }
  // Only zod's own wording: a schema's custom message (e.g. when `lag` may be left out) stays.
  if (
    issue.code === 'invalid_type' &&
    value === undefined &&
    issue.message.startsWith('Invalid input: expected')
  ) {
    return [{ path: issue.path, message: `required (${article(issue.expected)})` }];
  }
  // zod's "Too small: expected number to be >=5" in the words the rest of the messages use.
  if ((issue.code === 'too_small' || issue.code === 'too_big') && /^Too (small|big):/.test(issue.message)) {
    const bound = rangeText(issue);
    if (bound) return [{ path: issue.path, message: bound }];
  }
  return [{ path: issue.path, message: issue.message }];
}

function rangeText(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string | undefined {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  if (issue.origin === 'number') {
    return `must be ${small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than'} ${limit}`;
  }
  if (issue.origin === 'array') {
    return `must have ${small ? 'at least' : 'at most'} ${limit} item${limit === 1 ? '' : 's'}`;
  }
  if (issue.origin === 'string') {
    return `must be ${small ? 'at least' : 'at most'} ${limit} character${limit === 1 ? '' : 's'} long`;
  }
  return undefined;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
