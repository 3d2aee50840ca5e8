/**
 * A step-at-a-time interpreter for the switchover state machine, taken from the synthesized
 * template, for the long property run: aws-local-stepfunctions runs one execution in ~100 ms and
 * cannot be paused between states, while the property test needs thousands of executions whose
 * states interleave with alarm events, clock jumps and other operators.
 *
 * It covers exactly the Amazon States Language the definition uses (Task with Parameters,
 * InputPath, ResultSelector, ResultPath, Retry, Catch; Choice with StringEquals, StringMatches,
 * BooleanEquals, IsPresent, Or; Wait; Pass with Parameters and ResultPath; Succeed with OutputPath;
 * Fail with Error/Cause or their paths), and throws on
 * anything else. property.test.ts checks it against aws-local-stepfunctions on the same scenarios.
 */

// biome-ignore lint/suspicious/noExplicitAny: ASL and execution state are JSON walked structurally
type Json = any;

export interface AslBindings {
  /** The step Lambda's ARN in the definition, and the function standing for it (the real handler). */
  readonly stepArn: string;
  readonly step: (event: Json) => Promise<Json>;
  /** Hooks invoked through `arn:aws:states:::lambda:invoke`. @default - none configured */
  readonly invoke?: (functionName: string, payload: Json) => Promise<Json>;
  /** Called when the execution passes a Wait state, with its seconds. */
  readonly onWait?: (seconds: number) => void;
}

export type AslStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

const json = (v: unknown): Json => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

function read(doc: Json, path: string, context: Json): Json {
  if (path === '$') return doc;
  const [root, rest] = path.startsWith('$$.') ? [context, path.slice(3)] : [doc, path.slice(2)];
  if (!path.startsWith('$.') && !path.startsWith('$$.')) throw new Error(`unsupported path ${path}`);
  let cur = root;
  for (const key of rest.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(key in cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

function write(doc: Json, path: string | null | undefined, value: Json): Json {
  if (path === null) return doc;
  if (path === undefined || path === '$') return value;
  if (!path.startsWith('$.')) throw new Error(`unsupported ResultPath ${path}`);
  const out = json(doc);
  const keys = path.slice(2).split('.');
  let cur = out;
  for (const key of keys.slice(0, -1)) {
    if (cur[key] === null || typeof cur[key] !== 'object') cur[key] = {};
    cur = cur[key];
  }
  cur[keys.at(-1) as string] = value;
  return out;
}

function parameters(template: Json, doc: Json, context: Json): Json {
  if (template === undefined) return doc;
  const out: Json = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) out[key.slice(0, -2)] = read(doc, value as string, context);
    else out[key] = value && typeof value === 'object' ? parameters(value, doc, context) : value;
  }
  return out;
}

function matches(rule: Json, doc: Json): boolean {
  if ('Or' in rule) return (rule.Or as Json[]).some((r) => matches(r, doc));
  const value = read(doc, rule.Variable, {});
  if ('StringEquals' in rule) return value === rule.StringEquals;
  if ('StringMatches' in rule) {
    // Only `*` wildcards (the definition uses no escapes).
    const pattern = String(rule.StringMatches)
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return typeof value === 'string' && new RegExp(`^${pattern}$`).test(value);
  }
  if ('BooleanEquals' in rule) return value === rule.BooleanEquals;
  if ('IsPresent' in rule) return (value !== undefined) === rule.IsPresent;
  throw new Error(`unsupported Choice rule ${JSON.stringify(rule)}`);
}

/** One execution, advanced one Task (plus the Choice/Wait states that follow it) per `next()`. */
export class AslExecution {
  status: AslStatus = 'RUNNING';
  output: Json;
  error: string | undefined;
  cause: string | undefined;
  /** Every state entered, in order. */
  readonly states: string[] = [];
  private doc: Json;
  private current: string;
  private readonly context: Json;
  private readonly attempts = new Map<string, number>();

  constructor(
    private readonly definition: Json,
    private readonly bindings: AslBindings,
    input: Json,
    readonly name: string,
  ) {
    this.doc = json(input);
    this.current = definition.StartAt;
    this.context = { Execution: { Name: name } };
  }

  /** The next Task the execution will run, or undefined when it has ended. */
  get pendingTask(): string | undefined {
    return this.status === 'RUNNING' ? this.current : undefined;
  }

  /** Runs the current Task, then every Choice/Wait/terminal state up to the next Task. */
  async next(): Promise<AslStatus> {
    if (this.status !== 'RUNNING') return this.status;
    await this.runTask();
    this.flow();
    return this.status;
  }

  /** Runs to the end. */
  async run(): Promise<this> {
    while ((await this.next()) === 'RUNNING') {}
    return this;
  }

  private state(name: string): Json {
    const s = this.definition.States[name];
    if (!s) throw new Error(`no state ${name}`);
    return s;
  }

  private async runTask(): Promise<void> {
    const name = this.current;
    const s = this.state(name);
    if (s.Type !== 'Task') throw new Error(`expected a Task at ${name}, got ${s.Type}`);
    // Like Step Functions' history, a retried Task is entered once.
    if (!this.attempts.has(name)) this.states.push(name);
    const input = s.InputPath ? read(this.doc, s.InputPath, this.context) : this.doc;
    const params = parameters(s.Parameters, input, this.context);
    try {
      let result: Json;
      if (s.Resource === this.bindings.stepArn) {
        result = json(await this.bindings.step(json(params)));
      } else if (s.Resource === 'arn:aws:states:::lambda:invoke') {
        if (!this.bindings.invoke) throw new Error(`${name} invokes a hook, and none is bound`);
        result = { Payload: json(await this.bindings.invoke(params.FunctionName, params.Payload)) };
      } else {
        throw new Error(`unsupported Resource ${s.Resource}`);
      }
      if (s.ResultSelector) result = parameters(s.ResultSelector, result, this.context);
      this.doc = write(this.doc, s.ResultPath, result);
      this.attempts.delete(name);
      this.current = s.Next;
      if (s.End) this.finish({ Type: 'Succeed' });
    } catch (err) {
      const e = err as Error;
      const errorName = e.name || 'Error';
      const retry = (s.Retry ?? []).find(
        (r: Json) => r.ErrorEquals.includes(errorName) || r.ErrorEquals.includes('States.ALL'),
      );
      const tried = (this.attempts.get(name) ?? 0) + 1;
      if (retry && tried <= (retry.MaxAttempts ?? 3)) {
        this.attempts.set(name, tried);
        return; // the same Task again
      }
      this.attempts.delete(name);
      const caught = (s.Catch ?? []).find(
        (c: Json) => c.ErrorEquals.includes(errorName) || c.ErrorEquals.includes('States.ALL'),
      );
      // The step Lambda's error becomes Lambda's error JSON; a hook's error arrives already as that
      // JSON from the lambda:invoke integration (TestHooks.invoke), and is kept as it is.
      const cause =
        s.Resource === this.bindings.stepArn
          ? JSON.stringify({ errorType: errorName, errorMessage: e.message, trace: [] })
          : e.message;
      if (!caught) {
        this.status = 'FAILED';
        this.error = errorName;
        this.cause = cause;
        return;
      }
      this.doc = write(this.doc, caught.ResultPath, { Error: errorName, Cause: cause });
      this.current = caught.Next;
    }
  }

  /** Follows Choice and Wait states; stops at the next Task or at the end. */
  private flow(): void {
    while (this.status === 'RUNNING') {
      const s = this.state(this.current);
      if (s.Type === 'Task') return;
      this.states.push(this.current);
      switch (s.Type) {
        case 'Choice': {
          const rule = (s.Choices as Json[]).find((c) => matches(c, this.doc));
          this.current = rule ? rule.Next : s.Default;
          break;
        }
        case 'Wait':
          this.bindings.onWait?.(s.SecondsPath ? read(this.doc, s.SecondsPath, this.context) : s.Seconds);
          this.current = s.Next;
          break;
        case 'Pass':
          if (s.Parameters !== undefined)
            this.doc = write(this.doc, s.ResultPath ?? '$', parameters(s.Parameters, this.doc, this.context));
          this.current = s.Next;
          break;
        default:
          this.finish(s);
      }
    }
  }

  private finish(s: Json): void {
    if (s.Type === 'Succeed') {
      this.status = 'SUCCEEDED';
      this.output = s.OutputPath ? read(this.doc, s.OutputPath, this.context) : this.doc;
      return;
    }
    if (s.Type === 'Fail') {
      this.status = 'FAILED';
      this.error = s.ErrorPath ? read(this.doc, s.ErrorPath, this.context) : s.Error;
      this.cause = s.CausePath ? read(this.doc, s.CausePath, this.context) : s.Cause;
      return;
    }
    throw new Error(`unsupported state type ${s.Type}`);
  }
}
