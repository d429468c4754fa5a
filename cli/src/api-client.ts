/**
 * The CLI's only way to the broker: HTTP with the bearer token. Error answers become ApiError
 * (code, message, field, hint from the body), network failures UnreachableError. The token goes in
 * the Authorization header and nowhere else: no error message or log line carries it.
 */
import { ApiError, UnreachableError } from './errors';

export type Query = Record<string, string | number | boolean | undefined>;

export interface ApiClient {
  request<T = unknown>(method: string, path: string, options?: { body?: unknown; query?: Query }): Promise<{ status: number; body: T }>;
  /** Every item of a paged listing (`{ items, cursor? }`), following cursors. */
  listAll<T = unknown>(path: string, query?: Query): Promise<T[]>;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

const DEFAULT_TIMEOUT_MS = 30_000;

/** Builds `path?query` with every defined parameter encoded. */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Encodes one path segment (ids and user names are user input). */
export const seg = (value: string): string => encodeURIComponent(value);

export function createApiClient(options: { brokerUrl: string; token: string; fetch?: FetchLike; timeoutMs?: number }): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  const request: ApiClient['request'] = async (method, path, { body, query } = {}) => {
    const url = `${options.brokerUrl}${withQuery(path, query)}`;
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new UnreachableError(options.brokerUrl, describeFetchError(error));
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw toApiError(response, parsed, text);
    return { status: response.status, body: parsed as never };
  };

  return {
    request,
    async listAll<T>(path: string, query: Query = {}) {
      const items: T[] = [];
      let cursor: string | undefined;
      do {
        const page = await request<{ items: T[]; cursor?: string }>('GET', path, { query: { ...query, limit: 100, cursor } });
        items.push(...page.body.items);
        cursor = page.body.cursor;
      } while (cursor);
      return items;
    },
  };
}

function toApiError(response: Response, parsed: unknown, text: string): ApiError {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  const error = (parsed as { error?: { code?: unknown; message?: unknown; field?: unknown; hint?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string') {
    return new ApiError(
      response.status,
      error.code,
      typeof error.message === 'string' ? error.message : '',
      typeof error.field === 'string' ? error.field : undefined,
      typeof error.hint === 'string' ? error.hint : undefined,
      requestId,
    );
  }
  // Not the broker's error body (a proxy, a load balancer): show the start of what came back.
  return new ApiError(response.status, 'http-error', text.slice(0, 200) || response.statusText, undefined, 'is BROKER_URL the broker\'s address?', requestId);
}

function describeFetchError(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'no answer in time';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error);
}
