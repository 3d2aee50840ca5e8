/**
 * The switchover / operator-failover workflow: one Standard state machine for both modes.
 *
 *   Prepare (validate, preconditions, lease) -> [fence hook] -> catch-up loop (check, Choice, Wait)
 *   -> [promote hook] -> shift traffic -> verify loop -> commit (failed: confirm it from the record)
 *   -> [demote hook -> record demote] -> notify
 *
 * The commit is the point of no return: it comes before the old primary's demote. Until then the
 * old primary is only fenced, and an unfence makes it the writer again, so everything can roll
 * back; a demoted node replicates from the new primary and no unfence brings it back, so nothing
 * after the commit rolls back (a failed demote is recorded and announced). Patroni orders it the
 * same way: the new leader key is written before the old leader counts as demoted.
 *
 * Any failure after the lease and before the commit goes to a rollback that undoes, in reverse,
 * what may have happened (traffic back, promoted target demoted back, old primary unfenced, lease
 * released; a fence or promote that may still land is waited out first) and then fails the
 * execution with SwitchoverRolledBack / FailoverRolledBack; a failure during the
 * rollback stops it and fails with RollbackFailedError, whose cause describes the service's state.
 *
 * Step logic runs in ONE Lambda (lambdas/handlers/workflow.ts), dispatched on `step`: fewer
 * resources, one warm container. The node actions (hooks) run in a second one, the node-action
 * function (lambdas/handlers/node-action.ts), invoked by Step Functions itself (the
 * `lambda:invoke` integration), not from the step Lambda:
 * - the action timeout (hooks.timeoutSeconds, per service) is a Task TimeoutSecondsPath that Step
 *   Functions enforces;
 * - every call, its input (with the fencing token) and a bounded summary of its answer are in the
 *   execution history, the 90-day audit trail;
 * - a user's hook is a `lambda` action like any other: the node-action function invokes it and
 *   answers a bounded summary (status, an excerpt, the answer's size). A user's function may
 *   answer up to Lambda's 6 MB, and a Task result over Step Functions' 256 KiB payload quota
 *   fails the execution with States.DataLimitExceeded, which no Catch catches (not even
 *   States.ALL): invoked directly, one verbose hook would kill the execution mid-switchover, the
 *   primary fenced and the lease held;
 * - the state machine role may invoke only our two functions; the user's functions are invoked by
 *   the node-action function's role, scoped to exactly the configured ARNs.
 *
 * Hook convention: one function per role; the payload's `action` says what to do. The fence hook
 * also undoes a fence (`action: 'unfence'`), and the demote hook also demotes a target that our
 * promote hook may have promoted (rollback). Every call carries its own `token`
 * (node-actions.ts): a node refuses a token lower than the highest it has seen, and the
 * rollback's calls outrank the forward calls they undo, so a hook that answers after its Task
 * timed out cannot undo the rollback.
 *
 * Built-in node actions (ssm-command, ec2-stop, ec2-isolate, rds-promote-read-replica, postgres,
 * mysql) run in the same node-action function, with the same payload. Step Functions enforces the
 * Task timeout on it, and the function stops its own wait just before.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  CustomState,
  DefinitionBody,
  Errors,
  Fail,
  type IChainable,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { StepName } from '../lambdas/app/workflow/execution-state.ts';
import { MAX_ACTION_TIMEOUT_SECONDS, serviceNodeActions } from '../lambdas/domain/action-config.ts';
import { ABANDONED_CALL_ERRORS, type HookCalls, ROLLBACK_FAILED_ERROR } from '../lambdas/domain/workflow.ts';
import type { FailoverAutomation } from './failover-automation.ts';
import { grantNodeActions, hasNodeActions } from './node-action-permissions.ts';

export interface SwitchoverWorkflowProps {
  /** Supplies the configuration, and builds the step Lambda with the same bundling, config.json and grants. */
  readonly automation: FailoverAutomation;
  /**
   * Retention of the execution log (every state's input and output): the audit trail beyond the
   * 90 days Step Functions keeps execution history.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: RetentionDays;
  /**
   * The step Lambda's handler file.
   * @default 'lambdas/handlers/workflow.ts'
   */
  readonly entry?: string;
}

/** Step Functions error names for Lambda service faults (not the function's own errors): retried. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

/**
 * Error names of a step invocation that ran out of time and has ended: the function's own timeout
 * (`Sandbox.Timedout`; `Lambda.Unknown` on older runtimes) or the Task's (`States.Timeout`, set
 * longer than the function's, so the invocation is over by then). Every step is safe to run again.
 */
export const LAMBDA_STEP_TIMEOUT_ERRORS = ['States.Timeout', 'Sandbox.Timedout', 'Lambda.Unknown'] as const;

/** The step Lambda's refusal when the execution no longer holds its lease (step-guard.ts). */
const LEASE_LOST_ERROR = 'LeaseLostError';

/** Seconds a step Task waits beyond its function's timeout (cold start, Lambda's own overhead). */
const STEP_TASK_MARGIN_SECONDS = 30;

export class SwitchoverWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  /** The step Lambda: every step of the workflow except the hooks. */
  readonly stepFunction: NodejsFunction;
  readonly logGroup: LogGroup;
  /** Runs every node action (built-in kinds and users' functions); absent when the configuration has none. */
  readonly nodeActionFunction?: NodejsFunction;

  constructor(scope: Construct, id: string, props: SwitchoverWorkflowProps) {
    super(scope, id);
    const { automation } = props;
    this.stepFunction = automation.createHandlerFunction('WorkflowFunction', {
      entry: props.entry ?? 'lambdas/handlers/workflow.ts',
      description:
        'Switchover / operator failover workflow steps: preconditions, catch-up, shift, verify, commit, rollback',
      // Each step is a few API calls; the waiting happens in Wait states, not in the function.
      timeout: Duration.seconds(60),
    });

    if (hasNodeActions(automation.config)) {
      const longest = Math.max(
        ...automation.config.services.flatMap((s) =>
          serviceNodeActions(s).map((a) => a.action.timeoutSeconds),
        ),
      );
      this.nodeActionFunction = automation.createHandlerFunction('NodeActionFunction', {
        entry: 'lambdas/handlers/node-action.ts',
        description:
          "Runs the switchover workflow's node actions: the built-in kinds (SSM, EC2, RDS, SQL) and users' hook functions, answering a bounded summary",
        // The action stops its own wait 2 s before the Task timeout; Lambda's own limit is 900 s.
        timeout: Duration.seconds(Math.min(MAX_ACTION_TIMEOUT_SECONDS, longest + 5)),
        grantTrafficControl: false,
        // It runs one action and answers; the workflow records and announces. The role holding the
        // database admin secrets and running SQL and SSM must not also write the primary, epoch or lease.
        grantState: false,
      });
      grantNodeActions(this.nodeActionFunction, automation.config, this.nodeActionFunction.role);
      // Reads the lease before it acts (lambdas/app/node-action-guard.ts): its payload is not trusted.
      this.nodeActionFunction.addToRolePolicy(
        new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [automation.table.tableArn] }),
      );
    }

    const definition = this.buildDefinition();
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      comment:
        'Switchover / operator failover: input { serviceId, mode: switchover|failover, to?, force?, dryRun?, reason, requestId? }',
      definitionBody: DefinitionBody.fromChainable(definition),
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    this.acknowledgeNagFindings();
    if (this.nodeActionFunction) {
      this.stateMachine.addToRolePolicy(
        new PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [this.nodeActionFunction.functionArn],
        }),
      );
    }
  }

  /** Deliberate cdk-nag findings of the state machine and its role, each with the reason. */
  private acknowledgeNagFindings(): void {
    const stepFunctionId = Stack.of(this).getLogicalId(this.stepFunction.node.defaultChild as CfnFunction);
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        'no X-Ray: the execution history (90 days) and the ALL-level execution log (1 year) already record every state with its input, output and timing, and X-Ray would add write actions on * to the role',
    });
    Validations.of(this.stateMachine.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'the execution log: CloudWatch Logs log-delivery actions (logs:CreateLogDelivery and the like) support no resource-level permissions (test/infra allows exactly these)',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${stepFunctionId}.Arn>:*]`,
        reason:
          "invoking versions of the workflow's own step Lambda (LambdaInvoke's grant), that function only",
      },
    );
  }

  private buildDefinition(): IChainable {
    // ---- rollback (built first: the forward states catch into it) -----------------------------
    const rolledBack = new Fail(this, 'RolledBack', {
      errorPath: '$.rollbackReport.error',
      causePath: '$.rollbackReport.message',
    });
    const rollbackFailedStop = new Fail(this, 'RollbackFailedStop', {
      error: ROLLBACK_FAILED_ERROR,
      causePath: '$.rollbackReport.message',
    });
    const rollbackFailedUnreported = new Fail(this, 'RollbackFailedUnreported', {
      error: ROLLBACK_FAILED_ERROR,
      cause:
        'the rollback failed, and so did the step that reads the service state, pauses automation and notifies: ' +
        'read this execution history for the last completed step; automatic failover may NOT be paused',
    });
    const rollbackFailed = this.step('RollbackFailed', 'rollbackFailed', '$.rollbackReport');
    this.route(rollbackFailed, rollbackFailedStop, rollbackFailedUnreported, '$.rollbackFailedError');

    const rollbackFinish = this.step('RollbackFinish', 'rollbackFinish', '$.rollbackReport');
    this.route(rollbackFinish, rolledBack, rollbackFailed, '$.rollbackFinishError');

    const unfence = this.hook('UnfencePrimary', 'unfence', '$.rollbackUnfenced');
    const unfenceTolerable = new Choice(this, 'UnfenceFailureTolerable')
      // The old primary was already unhealthy at the start (failover of a dead node): traffic is
      // back where it was, on a node that could not take writes anyway. Otherwise it is a failure.
      .when(Condition.booleanEquals('$.plan.primaryHealthy', false), rollbackFinish)
      .otherwise(rollbackFailed);
    this.route(unfence, rollbackFinish, unfenceTolerable, '$.unfenceError');
    const rollbackUnfence = this.ifHookPlanned('RollbackHasFenceHook', 'unfence', unfence, rollbackFinish);

    const demoteTarget = this.hook('DemoteTarget', 'demoteTarget', '$.rollbackDemoted');
    this.route(demoteTarget, rollbackUnfence, rollbackFailed, '$.rollbackDemoteError');
    // Only a target our promote hook may have promoted is demoted back.
    const rollbackDemote = this.ifHookPlanned(
      'RollbackCanDemoteTarget',
      'demoteTarget',
      demoteTarget,
      rollbackUnfence,
    );

    const rollbackTraffic = this.step('RollbackTraffic', 'rollbackTraffic', '$.rollbackTraffic');
    this.route(rollbackTraffic, rollbackDemote, rollbackFailed, '$.rollbackTrafficError');

    // ---- forward path -------------------------------------------------------------------------
    const done = new Succeed(this, 'Done', { outputPath: '$.result' });
    const notify = this.step('Notify', 'notify', JsonPath.DISCARD);
    // The change is committed: a notification that cannot be sent is reported in the output, never rolled back.
    this.route(notify, done, done, '$.result.notifyError');

    // Past the point of no return (commit below): nothing from here on rolls back. The old
    // primary is demoted only once the change is durable; a demote that fails is recorded and
    // announced (the verified new primary already takes writes), and so is a failure to record it.
    const recordDemote = this.step('RecordDemote', 'recordDemote', '$.result');
    this.route(recordDemote, notify, notify, '$.recordDemoteError');
    const demote = this.hook('DemoteOldPrimary', 'demote', JsonPath.DISCARD);
    this.route(demote, recordDemote, recordDemote, '$.demoteError');
    const hasDemote = this.ifHookPlanned('HasDemoteHook', 'demote', demote, notify);

    // The point of no return. Until the commit is durable the old primary is only fenced, and
    // the rollback's unfence makes it the writer again; so a commit that did not land rolls back.
    // Whether it landed is read from the record (ConfirmCommit), not inferred from the error: a
    // write whose answers were all lost is a commit, and carries on to the demote.
    const confirmCommit = this.step('ConfirmCommit', 'confirmCommit', '$.result');
    this.route(confirmCommit, hasDemote, rollbackTraffic, '$.confirmCommitError');
    const commit = this.step('Commit', 'commit', '$.result');
    this.route(commit, hasDemote, confirmCommit, '$.error');

    const checkVerify = this.step('CheckVerify', 'checkVerify', '$.verify');
    checkVerify.addCatch(rollbackTraffic, { errors: [Errors.ALL], resultPath: '$.error' });
    const verified = Condition.stringEquals('$.verify.status', 'verified');
    this.pollUntil(checkVerify, { wait: 'WaitForVerify', choice: 'Verified' }, verified, commit);

    const shift = this.step('ShiftTraffic', 'shiftTraffic', '$.shift');
    this.route(shift, checkVerify, rollbackTraffic, '$.error');

    const promote = this.hook('PromoteTarget', 'promote', JsonPath.DISCARD);
    this.route(promote, shift, this.waitOutAbandoned('Promote', '$.error', rollbackTraffic), '$.error');
    const hasPromote = this.ifHookPlanned('HasPromoteHook', 'promote', promote, shift);

    const checkCatchUp = this.step('CheckCatchUp', 'checkCatchUp', '$.catchUp');
    // The lease is gone (the execution outlived it: stopped and redriven, or delayed), and with it
    // the right to touch the nodes: another operation may have fenced the old primary since, and
    // the unfence would undo its fence (two writers on a node that ignores tokens). Stop and report.
    checkCatchUp.addCatch(rollbackFailed, { errors: [LEASE_LOST_ERROR], resultPath: '$.error' });
    checkCatchUp.addCatch(rollbackUnfence, { errors: [Errors.ALL], resultPath: '$.error' });
    const caughtUp = Condition.stringEquals('$.catchUp.status', 'ready');
    this.pollUntil(checkCatchUp, { wait: 'WaitForCatchUp', choice: 'CaughtUp' }, caughtUp, hasPromote);

    const fence = this.hook('FencePrimary', 'fence', JsonPath.DISCARD);
    this.route(
      fence,
      checkCatchUp,
      this.waitOutAbandoned('Fence', '$.fenceError', rollbackUnfence),
      '$.fenceError',
    );
    const hasFence = this.ifHookPlanned('HasFenceHook', 'fence', fence, checkCatchUp);

    // Nothing has changed when Prepare fails (invalid input, unknown service, preconditions,
    // lease held): no Catch, the execution fails with the step's own error name.
    const prepare = new LambdaInvoke(this, 'Prepare', {
      lambdaFunction: this.stepFunction,
      payloadResponseOnly: true,
      taskTimeout: this.stepTaskTimeout(),
      payload: TaskInput.fromObject({
        step: 'prepare' satisfies StepName,
        input: JsonPath.entirePayload,
        executionName: JsonPath.executionName,
        ...(this.nodeActionFunction ? { actionFunctionArn: this.nodeActionFunction.functionArn } : {}),
      }),
    });
    this.retryTransient(prepare);
    return prepare.next(
      new Choice(this, 'Route')
        .when(
          Condition.stringEquals('$.outcome', 'already-primary'),
          new Succeed(this, 'AlreadyPrimary', { outputPath: '$.result' }),
        )
        .when(
          Condition.stringEquals('$.outcome', 'dry-run'),
          new Succeed(this, 'DryRunDone', { outputPath: '$.result' }),
        )
        .otherwise(hasFence),
    );
  }

  /**
   * Before the rollback undoes a fence or promote whose call may still be running (it timed out,
   * Lambda failed around it, a built-in action gave up: ABANDONED_CALL_ERRORS), it waits the
   * call's settle time: Step Functions stopped waiting, not the call, and a call that lands after
   * its undo would leave the node as the rollback says it is not (a late promote: two writers; a
   * late fence: the old primary fenced with all the traffic). Tokens guard nodes that keep the
   * token contract; this wait guards the others. A call that failed by its own hand has ended.
   */
  private waitOutAbandoned(call: 'Fence' | 'Promote', errorPath: string, next: IChainable): Choice {
    const hookCall = call === 'Fence' ? 'fence' : 'promote';
    const noted = new Pass(this, `Abandoned${call}`, {
      parameters: {
        call: hookCall,
        'node.$': `$.plan.hookCalls.${hookCall}.Payload.node`,
        'seconds.$': `$.plan.hookCalls.${hookCall}.settleSeconds`,
        'error.$': `${errorPath}.Error`,
      },
      resultPath: '$.waitedOut',
    });
    const wait = new Wait(this, `WaitOutAbandoned${call}`, {
      time: WaitTime.secondsPath(`$.plan.hookCalls.${hookCall}.settleSeconds`),
    });
    noted.next(wait);
    wait.next(next);
    return new Choice(this, `${call}MayStillLand`)
      .when(
        Condition.or(
          ...ABANDONED_CALL_ERRORS.map((p) =>
            p.includes('*')
              ? Condition.stringMatches(`${errorPath}.Error`, p)
              : Condition.stringEquals(`${errorPath}.Error`, p),
          ),
        ),
        noted,
      )
      .otherwise(next);
  }

  /**
   * `check` polls: until `done` holds after it, a Wait of the plan's poll interval (named
   * `ids.wait`) runs it again; once it holds, the Choice (`ids.choice`) goes to `then`.
   */
  private pollUntil(
    check: LambdaInvoke,
    ids: { readonly wait: string; readonly choice: string },
    done: Condition,
    then: IChainable,
  ): void {
    const wait = new Wait(this, ids.wait, { time: WaitTime.secondsPath('$.plan.pollIntervalSeconds') });
    wait.next(check);
    check.next(new Choice(this, ids.choice).when(done, then).otherwise(wait));
  }

  /** A Choice running `hook` when the plan has that hook call, else going straight to `otherwise`. */
  private ifHookPlanned(id: string, call: keyof HookCalls, hook: IChainable, otherwise: IChainable): Choice {
    return new Choice(this, id)
      .when(Condition.isPresent(`$.plan.hookCalls.${call}`), hook)
      .otherwise(otherwise);
  }

  /** `state` goes to `next` when it succeeds and to `onError` on any error, the error kept at `errorPath`. */
  private route(
    state: LambdaInvoke | CustomState,
    next: IChainable,
    onError: IChainable,
    errorPath: string,
  ): void {
    state.addCatch(onError, { errors: [Errors.ALL], resultPath: errorPath });
    state.next(next);
  }

  /** A Task running one step of the step Lambda on the whole execution state. */
  private step(id: string, step: Exclude<StepName, 'prepare'>, resultPath: string): LambdaInvoke {
    const task = new LambdaInvoke(this, id, {
      lambdaFunction: this.stepFunction,
      payloadResponseOnly: true,
      taskTimeout: this.stepTaskTimeout(),
      payload: TaskInput.fromObject({ step, state: JsonPath.entirePayload }),
      resultPath,
    });
    this.retryTransient(task);
    return task;
  }

  /**
   * Step Functions has no default Task timeout: without one, an invocation that never answers
   * leaves the execution stuck with the old primary fenced while its lease runs out. Longer than
   * the function may run, so a Task that timed out means the invocation is over.
   */
  private stepTaskTimeout(): Timeout {
    const seconds = (this.stepFunction.timeout ?? Duration.seconds(3)).toSeconds();
    return Timeout.duration(Duration.seconds(seconds + STEP_TASK_MARGIN_SECONDS));
  }

  private retryTransient(task: LambdaInvoke): void {
    // Throttling and 5xx from the AWS APIs a step calls. Every step is safe to repeat: reads,
    // compare-and-swap writes, and a commit that recognises its own earlier success.
    task.addRetry({
      errors: ['TransientAwsError', 'Lambda.TooManyRequestsException'],
      interval: Duration.seconds(1),
      maxAttempts: 5,
      backoffRate: 2,
      maxDelay: Duration.seconds(20),
    });
    // A step that ran out of time has ended (LAMBDA_STEP_TIMEOUT_ERRORS): run it again rather than
    // fail Prepare with the lease held, or roll back a Commit that landed.
    task.addRetry({
      errors: [...LAMBDA_STEP_TIMEOUT_ERRORS],
      interval: Duration.seconds(2),
      maxAttempts: 2,
      backoffRate: 2,
    });
  }

  /**
   * A node action: the call prepared in `$.plan.hookCalls.<call>` (FunctionName, always the
   * node-action function, and Payload `{ serviceId, node, epoch, token, mode, action, execution,
   * timeoutSeconds }`), invoked by Step Functions. A node refuses a token lower than one it has
   * obeyed, and an action must be idempotent for the same token, because Lambda service errors
   * are retried. The answer is the node-action function's bounded summary, never the user's.
   */
  private hook(id: string, call: keyof HookCalls, resultPath: string): CustomState {
    const state = new CustomState(this, id, {
      stateJson: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        InputPath: `$.plan.hookCalls.${call}`,
        Parameters: { 'FunctionName.$': '$.FunctionName', 'Payload.$': '$.Payload' },
        // A hook that has not answered by then fails the Task (States.Timeout): caught, rolled back.
        TimeoutSecondsPath: '$.Payload.timeoutSeconds',
        ...(resultPath === JsonPath.DISCARD
          ? { ResultPath: null }
          : { ResultSelector: { done: true }, ResultPath: resultPath }),
      },
    });
    state.addRetry({
      // TransientAwsError: the node-action function's own call of a user's function was refused
      // by Lambda (throttled, 5xx) past the SDK's retries; nothing ran, as with Lambda.* here.
      errors: [...LAMBDA_SERVICE_ERRORS, 'TransientAwsError'],
      interval: Duration.seconds(2),
      maxAttempts: 4,
      backoffRate: 2,
    });
    return state;
  }
}
