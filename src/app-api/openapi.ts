/** The OpenAPI 3.1 document of the app API, made from its route table and schemas. */
import { ID_PATTERN } from '../protocol/index.js';
import { errorReply } from '../operator/admin-schemas.js';
import { httpErrors, type HttpErrorCode } from '../operator/http-errors.js';
import { schemaOf } from '../operator/openapi.js';
import type { AppRoute } from './routes.js';

/** Every error a route can answer: the rate limit, bad input where it takes any, its own. */
export function appErrorsOf(r: AppRoute): HttpErrorCode[] {
  const errors: HttpErrorCode[] = [];
  if (r.query || /:[A-Za-z]/.test(r.path)) errors.push('BAD_REQUEST');
  errors.push(...(r.errors ?? []), 'RATE_LIMITED');
  return errors;
}

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

export function appOpenApiDocument(routes: AppRoute[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: unknown[] = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string', pattern: ID_PATTERN.source, description: 'A leading `_` is reserved and refused' },
    }));
    if (r.query) {
      const q = schemaOf(r.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
    }
    if (r.etag) parameters.push({ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } });
    const responses: Record<string, unknown> = {
      200: {
        description: 'Success',
        headers: {
          'Cache-Control': { schema: { type: 'string' } },
          ...(r.etag ? { ETag: { schema: { type: 'string' } } } : {}),
        },
        content: { 'application/json': { schema: schemaOf(r.ok[1], 'output') } },
      },
    };
    if (r.etag) responses['304'] = { description: 'Not modified: the `If-None-Match` tag is current' };
    for (const code of appErrorsOf(r)) {
      const { status, message } = httpErrors[code];
      responses[String(status)] = {
        description: `${message.charAt(0).toUpperCase()}${message.slice(1)} (\`${code}\`)`,
        ...(code === 'RATE_LIMITED' ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds' } } } : {}),
        content: errorContent,
      };
    }
    (paths[r.path.replace(/:([A-Za-z]+)/g, '{$1}')] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(r.user ? { security: [{ bearer: [] }, { devUser: [] }] } : { security: [] }),
      ...(parameters.length > 0 ? { parameters } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'onair app API', version, description: 'What an app reads besides chat: programmes on air, records of aggros. See docs/app-api.md.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'AUTH_MODE=jwt: the same token as the socket' },
        devUser: { type: 'apiKey', in: 'header', name: 'x-onair-user', description: 'AUTH_MODE=dev: the userUID, unverified' },
      },
      schemas: { Error: schemaOf(errorReply, 'output') },
    },
    paths,
  };
}
