/** One service an invocation talks to, and where. */
export interface InvocationEndpoint {
  service: 'ModelArts' | 'IAM' | 'S3' | 'SQS';
  /** The URL; undefined where the AWS SDK's default (the real AWS endpoint of the region) applies. */
  url: string | undefined;
  /** True for localhost (and names under it), 127.0.0.0/8 and ::1: a service on this machine (the local stack). */
  loopback: boolean;
}

/**
 * The endpoints a handler configured from `env` will send requests to: ModelArts (and its IAM
 * endpoint, with token auth), S3 and — when `WORK_QUEUE_URL` is set — SQS, resolved as the AWS
 * SDK resolves them (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then AWS itself).
 * An empty variable counts as unset, as the SDK treats it.
 */
export function invocationEndpoints(env: NodeJS.ProcessEnv): InvocationEndpoint[] {
  const set = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const endpoint = (service: InvocationEndpoint['service'], url: string | undefined): InvocationEndpoint => ({ service, url, loopback: isLoopback(url) });
  const endpoints = [endpoint('ModelArts', set('MODELARTS_ENDPOINT'))];
  if (set('MODELARTS_IAM_ENDPOINT') !== undefined) endpoints.push(endpoint('IAM', set('MODELARTS_IAM_ENDPOINT')));
  endpoints.push(endpoint('S3', set('AWS_ENDPOINT_URL_S3') ?? set('AWS_ENDPOINT_URL')));
  // The SQS client sends to the configured endpoint, not the queue URL's host (lib/deps/createCleanupDeps.ts: useQueueUrlAsEndpoint false).
  if (set('WORK_QUEUE_URL') !== undefined) endpoints.push(endpoint('SQS', set('AWS_ENDPOINT_URL_SQS') ?? set('AWS_ENDPOINT_URL')));
  return endpoints;
}

function isLoopback(url: string | undefined): boolean {
  if (url === undefined || !URL.canParse(url)) return false;
  const host = new URL(url).hostname;
  // RFC 6761: `localhost` and every name under it are loopback.
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
