/**
 * The console's only way to the broker: the same JSON API and bearer header as the CLI, on the
 * console's own origin. No cookie is ever involved, so there is nothing for another site to ride
 * on (no CSRF) and nothing a script could read but the key this tab was given. Errors become values
 * the pages can show (describeError); nothing here touches the DOM.
 */

export type ApiFailure =
  | { readonly kind: 'http'; readonly status: number; readonly code: string; readonly message: string; readonly field?: string; readonly requestId?: string }
  | { readonly kind: 'network'; readonly message: string };

export class ApiError extends Error {
  constructor(readonly failure: ApiFailure) {
    super(failure.message);
    this.name = 'ApiError';
  }
}

export interface ApiClient {
  get<T>(path: string, query?: Readonly<Record<string, string | undefined>>): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

export type FetchLike = (input: string, init: { method: string; headers: Record<string, string> }) => Promise<{
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

/** `/v1/tenants/{tenantId}/usage` with each segment escaped: a typed value never changes the path. */
export function apiPath(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`apiPath: no value for ${name}`);
    return encodeURIComponent(value);
  });
}

export function createApiClient(options: { readonly token: string; readonly fetch: FetchLike; readonly baseUrl?: string }): ApiClient {
  const call = async <T>(method: string, path: string, query?: Readonly<Record<string, string | undefined>>): Promise<T> => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') qs.set(k, v);
    const url = `${options.baseUrl ?? ''}${path}${qs.size > 0 ? `?${qs}` : ''}`;
    let response: Awaited<ReturnType<FetchLike>>;
    try {
      response = await options.fetch(url, { method, headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' } });
    } catch (error) {
      throw new ApiError({ kind: 'network', message: error instanceof Error ? error.message : String(error) });
    }
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.ok) return body as T;
    throw new ApiError(httpFailure(response.status, body, response.headers.get('x-request-id') ?? undefined));
  };
  return {
    get: (path, query) => call('GET', path, query),
    delete: (path) => call('DELETE', path),
  };
}

function httpFailure(status: number, body: unknown, requestId: string | undefined): ApiFailure {
  const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  return {
    kind: 'http',
    status,
    code: typeof error?.code === 'string' ? error.code : `http-${status}`,
    message: typeof error?.message === 'string' ? error.message : `the broker answered ${status} without an error body`,
    ...(typeof error?.field === 'string' ? { field: error.field } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

/** One sentence an operator can act on, with the API's own code and message kept. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return `Unexpected error: ${error instanceof Error ? error.message : String(error)}`;
  const f = error.failure;
  if (f.kind === 'network') return `Cannot reach the broker (${f.message}). Check the network and that the broker is running, then retry.`;
  const detail = `${f.status} ${f.code}: ${f.message}${f.field ? ` (field ${f.field})` : ''}${f.requestId ? ` [request ${f.requestId}]` : ''}`;
  switch (f.status) {
    case 401:
      return `The key was not accepted (${detail}). Sign in again with a valid API key.`;
    case 403:
      return `This key may not do that (${detail}). It needs an operator (fleet-scoped) key.`;
    case 404:
      return `Not found (${detail}). It does not exist, or this key's tenant cannot see it.`;
    default:
      return `The broker refused the request (${detail}).`;
  }
}

/** True for the failure that means "this key is no good": the console then signs out. */
export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.failure.kind === 'http' && error.failure.status === 401;
}
