/**
 * `/docs`: a self-contained HTML rendering of the OpenAPI document (no CDN, no script): each
 * operation with its summary, parameters, request schema and responses.
 */
interface OpenApiDoc {
  info?: { title?: string; version?: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

interface Operation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** Inlines `$ref`s (one level per reference, cycles cut) so each operation reads on its own. */
function resolve(schema: unknown, doc: OpenApiDoc, seen: Set<string> = new Set()): unknown {
  if (Array.isArray(schema)) return schema.map((s) => resolve(s, doc, seen));
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const name = ref.split('/').pop() ?? ref;
    if (seen.has(name)) return { $ref: name };
    return resolve(doc.components?.schemas?.[name], doc, new Set([...seen, name]));
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolve(v, doc, seen)]));
}

export function renderDocsPage(doc: OpenApiDoc): string {
  const sections: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []).map((p) => `${p.name} (${p.in}${p.required ? ', required' : ''})`).join(', ');
      const body = op.requestBody?.content?.['application/json']?.schema;
      const responses = Object.entries(op.responses ?? {})
        .map(([code, r]) => `<li><code>${escapeHtml(code)}</code> ${escapeHtml(r.description ?? '')}</li>`)
        .join('');
      sections.push(`<section>
<h2><span class="m ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h2>
<p>${escapeHtml(op.summary ?? '')}</p>${op.description ? `<p class="d">${escapeHtml(op.description)}</p>` : ''}
${params ? `<p><b>Parameters:</b> ${escapeHtml(params)}</p>` : ''}
${body ? `<details><summary>Request body</summary><pre>${escapeHtml(JSON.stringify(resolve(body, doc), null, 2))}</pre></details>` : ''}
<ul>${responses}</ul>
</section>`);
    }
  }
  const title = escapeHtml(doc.info?.title ?? 'API');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0}h2{font-size:1rem;margin:.4rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:700}.get{color:#05a}.post{color:#080}.put{color:#a60}.delete{color:#b00}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:12px}.d{color:#555}
</style></head><body>
<h1>${title} <small>${escapeHtml(doc.info?.version ?? '')}</small></h1>
<p>${escapeHtml(doc.info?.description ?? '')}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
${sections.join('\n')}
</body></html>`;
}
