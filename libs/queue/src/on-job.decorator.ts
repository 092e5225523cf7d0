import { JOB_QUEUE, type JobOf, type JobStatus } from './job-item.types';
import { type JobName, type QueueName } from './queue-name.enum';
import { JobRegistryError } from './queue.error';

export interface OnJobOptions<N extends JobName = JobName> {
  name: N;
  queue: QueueName;
}

/** Context a handler may use for logging and progress; the payload itself stays IDs only. */
export interface JobContext {
  jobId: string;
  attempt: number;
}

export type JobHandler<N extends JobName = JobName> = (data: JobOf<N>, context: JobContext) => Promise<JobStatus>;

const handlerMetadata = new WeakMap<object, OnJobOptions>();

/**
 * Marks a method as the handler of one job. The method's parameter type must match the job's payload, so a handler
 * for the wrong job does not compile. Found at boot by `collectJobHandlers`.
 */
export function OnJob<N extends JobName>(options: OnJobOptions<N>) {
  return <M extends (data: JobOf<N>, context: JobContext) => Promise<JobStatus>>(
    _target: object,
    _key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    if (descriptor.value !== undefined) handlerMetadata.set(descriptor.value, options);
  };
}

export interface RegisteredHandler {
  name: JobName;
  queue: QueueName;
  /** `Class.method`, for error messages and logs. */
  source: string;
  handle: JobHandler;
}

function methodsOf(instance: object): { key: string; fn: unknown }[] {
  const out: { key: string; fn: unknown }[] = [];
  const seen = new Set<string>();
  for (let proto: unknown = Object.getPrototypeOf(instance); proto !== null && proto !== Object.prototype;) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || seen.has(key)) continue;
      seen.add(key);
      const fn: unknown = Object.getOwnPropertyDescriptor(proto, key)?.value;
      if (typeof fn === 'function') out.push({ key, fn });
    }
    proto = Object.getPrototypeOf(proto);
  }
  return out;
}

/**
 * Finds every @OnJob method on the given instances and checks the registry: a job name may have at most one handler,
 * it must be declared on the job's own queue, and every name in `required` (the jobs of the enabled worker roles)
 * must have one. Throws JobRegistryError otherwise, so a misconfigured worker fails at boot instead of silently
 * leaving jobs unprocessed.
 */
export function collectJobHandlers(
  instances: readonly object[],
  required: readonly JobName[],
): Map<JobName, RegisteredHandler> {
  const found = new Map<JobName, RegisteredHandler>();
  for (const instance of instances) {
    for (const { key, fn } of methodsOf(instance)) {
      const meta = typeof fn === 'function' ? handlerMetadata.get(fn) : undefined;
      if (meta === undefined || typeof fn !== 'function') continue;
      const source = `${instance.constructor.name}.${key}`;
      if (JOB_QUEUE[meta.name] !== meta.queue) {
        throw new JobRegistryError(
          `${source} declares job ${meta.name} on queue ${meta.queue}, but that job runs on ${JOB_QUEUE[meta.name]}`,
          { job: meta.name },
        );
      }
      const existing = found.get(meta.name);
      if (existing !== undefined) {
        throw new JobRegistryError(`Job ${meta.name} has two handlers: ${existing.source} and ${source}`, {
          job: meta.name,
        });
      }
      const handle: JobHandler = (fn as JobHandler).bind(instance);
      found.set(meta.name, { name: meta.name, queue: meta.queue, source, handle });
    }
  }
  const missing = required.filter((name) => !found.has(name));
  if (missing.length > 0) {
    throw new JobRegistryError(
      `No handler for job(s) ${missing.join(', ')}. Add an @OnJob({ name, queue }) method to a provider of the worker,` +
        ' or disable the worker role that processes them (WORKER_ROLES).',
      { jobs: missing },
    );
  }
  // Handlers of disabled roles are checked for duplicates above but not run by this process.
  return new Map([...found].filter(([name]) => required.includes(name)));
}
