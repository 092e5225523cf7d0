import { createTransport } from 'nodemailer';
import { webhookUrlProblem } from '@tributary/db';
import { SIGNATURE_HEADER, signWebhookBody } from './webhook-signature.util';

/** How long one delivery may take (connect, send, answer) before it counts as a retryable failure. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** How a delivery went. `permanent` failures are never retried for this occurrence of the group. */
export type DeliveryOutcome = { ok: true } | { ok: false; permanent: boolean; error: string };

export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** The part of a nodemailer transporter the hub uses; tests may substitute it. */
export interface MailSender {
  sendMail(message: OutgoingEmail): Promise<unknown>;
}

/** A nodemailer SMTP transport from SMTP_URL (smtp://user:pass@host:port, smtps:// for implicit TLS). */
export function createMailSender(smtpUrl: string): MailSender {
  return createTransport({
    url: smtpUrl,
    connectionTimeout: DELIVERY_TIMEOUT_MS,
    greetingTimeout: DELIVERY_TIMEOUT_MS,
    socketTimeout: DELIVERY_TIMEOUT_MS,
  });
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  message?: string;
}

/**
 * 5xx SMTP answers refuse this message for good (unknown mailbox, bad address), as does an envelope nodemailer
 * cannot build. Everything else (connection refused, timeouts, 4xx greylisting) may work later. A refused login
 * (EAUTH, 535) is the operator's configuration, not the user's address: it is retried so the notification is not
 * lost while the operator fixes SMTP_URL.
 */
export function classifySmtpError(err: unknown): DeliveryOutcome {
  const e = (err ?? {}) as SmtpError;
  const error = `${e.code ?? 'error'}${e.responseCode === undefined ? '' : ` ${e.responseCode}`}: ${e.message ?? String(err)}`;
  if (e.code === 'EAUTH') return { ok: false, permanent: false, error };
  if (e.code === 'EENVELOPE') return { ok: false, permanent: true, error };
  if (e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600) {
    return { ok: false, permanent: true, error };
  }
  return { ok: false, permanent: false, error };
}

export async function sendEmail(sender: MailSender, message: OutgoingEmail): Promise<DeliveryOutcome> {
  try {
    await sender.sendMail(message);
    return { ok: true };
  } catch (err) {
    return classifySmtpError(err);
  }
}

/** Scheme, host and path only: a webhook URL's query often carries a token, which must not reach the logs. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Status codes worth asking again later: the receiver is overloaded, restarting or rate limiting. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * POSTs the JSON body signed with the user's secret. Redirects are not followed: the user registered this exact URL,
 * and a redirect could lead the signed request (and the worker) somewhere else, including plain http.
 */
export async function postWebhook(input: {
  url: string;
  body: string;
  secret: string;
  allowHttpWebhooks: boolean;
  nowSeconds: number;
  fetchImpl?: typeof fetch;
}): Promise<DeliveryOutcome> {
  const problem = webhookUrlProblem(input.url, { allowHttpWebhooks: input.allowHttpWebhooks });
  if (problem !== undefined) return { ok: false, permanent: true, error: `webhook URL ${problem}` };
  const doFetch = input.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await doFetch(input.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Tributary-Webhook/1',
        [SIGNATURE_HEADER]: signWebhookBody(input.secret, input.body, input.nowSeconds),
      },
      body: input.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
  } catch (err) {
    const name = (err as { name?: string }).name;
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const what = name === 'TimeoutError' ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : (cause ?? name);
    return { ok: false, permanent: false, error: `webhook request failed: ${what ?? 'network error'}` };
  }
  // The answer's body is of no use; drain it so the connection is released.
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return { ok: true };
  const error = `webhook answered HTTP ${res.status}`;
  if (res.status >= 300 && res.status < 400)
    return { ok: false, permanent: true, error: `${error} (redirects are not followed)` };
  return { ok: false, permanent: !retryableStatus(res.status), error };
}
