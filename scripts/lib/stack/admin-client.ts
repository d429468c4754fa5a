/** The local stack's calls to its own broker's operator API, with the admin token. */
export interface AdminClient {
  request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export function adminClient(brokerUrl: string, adminToken: string): AdminClient {
  return {
    async request(method, path, body) {
      const response = await fetch(`${brokerUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
    },
  };
}

/** POST /v1/agents; the token is shown once. */
export async function enrolAgent(admin: AdminClient, enrolment: { name: string; capacity: number; region?: string }): Promise<{ agentId: string; token: string }> {
  const { status, body } = await admin.request<{ agent?: { agentId: string }; token?: string }>('POST', '/v1/agents', { region: 'local', ...enrolment });
  if (status !== 201 || !body.agent || !body.token) throw new Error(`enrolling agent ${enrolment.name}: HTTP ${status} ${JSON.stringify(body)}`);
  return { agentId: body.agent.agentId, token: body.token };
}
