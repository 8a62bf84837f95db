// Sending one notification on one channel: a webhook (a JSON POST signed with HMAC-SHA256) or an
// e-mail over SMTP (nodemailer, loaded only when a pipeline sends mail). Both retry with backoff on
// failures that may pass (network errors, HTTP 5xx and 429, SMTP errors). Secrets (the signing key,
// the SMTP password) are read by name when sending, and never logged: a channel is described by its
// URL's origin or its recipients only.
import { createHmac } from "node:crypto";
import { hostname } from "node:os";
import type { Clock } from "../clock.js";
import type { TargetEvent } from "../config/schema.js";
import type { ChannelSpec, PipelineEvent } from "../kinds/pipeline/index.js";
import type { PlanSummary } from "./effects.js";

/** What is sent: the webhook's JSON body, and the e-mail's subject and text. */
export interface NotificationMessage {
  event: PipelineEvent;
  project: string;
  target: string;
  pipeline: string;
  run: string;
  /** The run's status when sent. */
  status: string;
  stage: string | null;
  /** One line for people (the e-mail's subject, the webhook's `text`). */
  title: string;
  /** Further lines (the e-mail's body). */
  lines: string[];
  at: string;
  /** approval_waiting: what the gated stage would change, who may approve, until when. */
  approval?: { approvers: string[]; required: number; timeout_at: string; plan: PlanSummary[] };
  trigger: { kind: string; user: string; ref: string | null };
}

/** A target's own event (its TTL): what was deployed, when it is (or was) destroyed, why a deletion failed. */
export interface TargetNotificationMessage {
  event: TargetEvent;
  project: string;
  target: string;
  title: string;
  lines: string[];
  at: string;
  ttl: { after: string; deployed_at: string; deployed_by: string; due_at: string; attempts: number; error: string | null; next_attempt_at: string | null };
}

/** Where a message goes: the webhook or e-mail keys of a pipeline's or a target's channel. */
export type ChannelTransport = Pick<ChannelSpec, "webhook" | "email">;

export interface SendOptions {
  clock: Clock;
  /** Reads a secret by name from the pipeline's environment. */
  secret(name: string): Promise<string | undefined>;
  /** SLIPWAY_SMTP_URL: the SMTP server of channels without their own `smtp`. */
  smtpUrl?: string;
  /** Waits before each retry (default 0.5 s, 1 s, 2 s: four attempts). */
  retryDelaysMs?: readonly number[];
  /** One attempt's time limit (default 10 s). */
  timeoutMs?: number;
}

export const DEFAULT_RETRY_DELAYS_MS = [500, 1000, 2000] as const;

class Permanent extends Error {}

/** Sends the message on the channel, retrying with backoff; resolves with the attempts it took, or throws the last error. */
export async function sendNotification(channel: ChannelTransport, message: NotificationMessage | TargetNotificationMessage, delivery: string, o: SendOptions): Promise<number> {
  const delays = o.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const send = channel.webhook ? await webhookSender(channel.webhook, message, delivery, o) : await emailSender(channel.email!, message, o);
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return attempt;
    } catch (e) {
      if (e instanceof Permanent || attempt > delays.length) throw Object.assign(new Error(`${(e as Error).message} (after ${attempt} attempt(s))`), { attempts: attempt });
      await o.clock.sleep(delays[attempt - 1]!);
    }
  }
}

/** A channel as it may be shown: a webhook's origin (its path may hold a token), an e-mail's recipients. */
export function describeChannel(channel: ChannelTransport): string {
  if (channel.webhook) {
    try {
      return `webhook ${new URL(channel.webhook.url).origin}`;
    } catch {
      return "webhook";
    }
  }
  return `e-mail to ${channel.email?.to.join(", ")}`;
}

async function webhookSender(hook: NonNullable<ChannelSpec["webhook"]>, message: NotificationMessage | TargetNotificationMessage, delivery: string, o: SendOptions): Promise<() => Promise<void>> {
  const body = JSON.stringify({ ...message, text: [message.title, ...message.lines].join("\n") });
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "slipway", "x-slipway-event": message.event, "x-slipway-delivery": delivery };
  if (hook.secret_env) {
    const secret = await o.secret(hook.secret_env);
    if (!secret) throw new Permanent(`the signing secret ${hook.secret_env} is not set in the pipeline's environment`);
    headers["x-slipway-signature-256"] = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  }
  return async () => {
    let res: Response;
    try {
      res = await fetch(hook.url, { method: "POST", headers, body, signal: AbortSignal.timeout(o.timeoutMs ?? 10_000), redirect: "error" });
    } catch (e) {
      throw new Error(`${describeChannel({ webhook: hook })}: ${(e as Error).cause ? String(((e as Error).cause as Error).message ?? (e as Error).cause) : (e as Error).message}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    const error = `${describeChannel({ webhook: hook })} answered ${res.status}`;
    throw res.status >= 500 || res.status === 429 || res.status === 408 ? new Error(error) : new Permanent(error);
  };
}

async function emailSender(email: NonNullable<ChannelSpec["email"]>, message: NotificationMessage | TargetNotificationMessage, o: SendOptions): Promise<() => Promise<void>> {
  const { createTransport } = await import("nodemailer");
  let transport: ReturnType<typeof createTransport>;
  if (email.smtp) {
    const password = email.smtp.password_env ? await o.secret(email.smtp.password_env) : undefined;
    if (email.smtp.password_env && !password) throw new Permanent(`the SMTP password ${email.smtp.password_env} is not set in the pipeline's environment`);
    transport = createTransport({
      host: email.smtp.host,
      port: email.smtp.port ?? (email.smtp.secure ? 465 : 587),
      secure: email.smtp.secure ?? false,
      ...(email.smtp.user ? { auth: { user: email.smtp.user, pass: password ?? "" } } : {}),
      connectionTimeout: o.timeoutMs ?? 10_000,
      greetingTimeout: o.timeoutMs ?? 10_000,
      socketTimeout: o.timeoutMs ?? 10_000,
    });
  } else if (o.smtpUrl) {
    transport = createTransport(o.smtpUrl);
  } else {
    throw new Permanent("no SMTP server: give the channel smtp: { host, port }, or set SLIPWAY_SMTP_URL for the server");
  }
  const mail = {
    from: email.from ?? `slipway@${hostname()}`,
    to: email.to.join(", "),
    subject: message.title,
    text: [...message.lines, "", "run" in message ? `event ${message.event}, run ${message.run}, ${message.at}` : `event ${message.event}, target ${message.project}/${message.target}, ${message.at}`].join("\n"),
    headers: { "X-Slipway-Event": message.event },
  };
  return async () => {
    try {
      await transport.sendMail(mail);
    } catch (e) {
      throw new Error(`${describeChannel({ email })}: ${(e as Error).message}`);
    }
  };
}
