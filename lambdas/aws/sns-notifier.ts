import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Notification, NotifierPort } from '../domain/ports.ts';
import { requireFormat } from './adapter-props.ts';
import { sendClassified } from './errors.ts';
import { stringAttributes } from './message-attributes.ts';

/** SNS: "Subjects must be ... less than 100 characters long", without line breaks or control characters. */
export const MAX_SUBJECT_CHARS = 99;
/** SNS message limit: 256 KiB of UTF-8. */
export const MAX_MESSAGE_BYTES = 262_144;
const RESERVED_KEYS = new Set(['kind', 'serviceId', 'subject']);

export interface SnsNotifierProps {
  readonly topicArn: string;
  /** @default - a new SNSClient with the default providers */
  readonly client?: SNSClient;
}

/**
 * Announces role changes and refusals on one topic. The subject is for humans (email); the body
 * is JSON for machines; `kind` and `serviceId` are also message attributes so subscribers can use
 * SNS filter policies (e.g. page only on `failover-failed`).
 */
export class SnsNotifier implements NotifierPort {
  private readonly topicArn: string;
  private readonly client: SNSClient;

  constructor(props: SnsNotifierProps) {
    this.topicArn = requireFormat('topicArn', props.topicArn, /^arn:aws[a-z-]*:sns:/, 'be an SNS topic ARN');
    this.client = props.client ?? new SNSClient({});
  }

  async publish(notification: Notification): Promise<void> {
    const command = new PublishCommand({
      TopicArn: this.topicArn,
      Subject: toSubject(notification.subject),
      Message: toMessage(notification),
      MessageAttributes: stringAttributes({ kind: notification.kind, serviceId: notification.serviceId }),
    });
    await sendClassified('Publish', () => this.client.send(command));
  }
}

/**
 * Printable ASCII on one line, at most 99 characters, starting with a letter, digit or
 * punctuation. Accents are folded (é -> e) rather than lost; anything else becomes `?`.
 */
export function toSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  const text = ascii || 'failover notification';
  return text.length > MAX_SUBJECT_CHARS ? `${text.slice(0, MAX_SUBJECT_CHARS - 3).trimEnd()}...` : text;
}

/** The JSON body. The fixed keys win over detail keys of the same name; oversized detail is dropped, not cut mid-JSON. */
export function toMessage(n: Notification): string {
  const detail = Object.fromEntries(Object.entries(n.detail).filter(([k]) => !RESERVED_KEYS.has(k)));
  const full = JSON.stringify({ kind: n.kind, serviceId: n.serviceId, subject: n.subject, ...detail });
  const bytes = Buffer.byteLength(full, 'utf8');
  if (bytes <= MAX_MESSAGE_BYTES) return full;
  return JSON.stringify({
    kind: n.kind,
    serviceId: n.serviceId,
    subject: n.subject,
    detailOmitted: `the detail was ${bytes} bytes, over the SNS limit of ${MAX_MESSAGE_BYTES}; see the logs`,
  });
}
