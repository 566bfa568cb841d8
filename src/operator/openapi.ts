/** The OpenAPI 3.1 document of the admin API, made from the route table and its schemas. */
import { z, type ZodType } from 'zod';
import { ID_PATTERN } from '../protocol/index.js';
import type { AdminRoute } from './admin-api.js';
import { errorReply } from './admin-schemas.js';
import { httpErrors, type HttpErrorCode } from './http-errors.js';

/** A zod schema as JSON Schema for an OpenAPI document (the app API's too). */
export function schemaOf(schema: ZodType, io: 'input' | 'output'): unknown {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Every error a route can answer: those of every route, those of its input, and its own. */
export function errorsOf(r: AdminRoute, hasPathParameters = /:[A-Za-z]/.test(r.path)): HttpErrorCode[] {
  const errors: HttpErrorCode[] = ['UNAUTHORIZED'];
  if (!r.moderation) errors.push('FORBIDDEN');
  if (r.body || r.query || hasPathParameters) errors.push('BAD_REQUEST');
  // Any body is read (and bounded) before it is parsed.
  if (r.method === 'PUT' || r.method === 'POST') errors.push('PAYLOAD_TOO_LARGE');
  errors.push(...(r.errors ?? []), 'UNAVAILABLE');
  return errors;
}

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

export function openApiDocument(routes: AdminRoute[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string', pattern: m[1] === 'userUID' ? '^[^\\s]+$' : ID_PATTERN.source },
    }));
    if (r.query) {
      const q = schemaOf(r.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
      }
    }
    const responses: Record<string, unknown> = {
      [String(r.ok[0])]: r.ok[1]
        ? { description: 'Success', content: { [r.contentType ?? 'application/json']: { schema: schemaOf(r.ok[1], 'output') } } }
        : { description: 'Done' },
    };
    for (const code of errorsOf(r, parameters.length > 0)) {
      const { status, message } = httpErrors[code];
      responses[String(status)] = { description: `${message.charAt(0).toUpperCase()}${message.slice(1)} (\`${code}\`)`, content: errorContent };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: !r.bodyOptional, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'onair admin API', version, description: 'Operator routes: schedule, persistent rooms, moderation, records. See docs/admin-api.md.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN (every route), or a token of MODERATOR_TOKENS (the routes marked as moderation routes; 403 FORBIDDEN elsewhere)' } },
      schemas: { Error: schemaOf(errorReply, 'output') },
    },
    paths,
  };
}
