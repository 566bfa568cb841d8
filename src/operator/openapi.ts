/** The OpenAPI 3.1 document of the admin API, made from the route table and its schemas. */
import { z, type ZodType } from 'zod';
import { ID_PATTERN } from '../protocol/index.js';
import type { AdminRoute } from './admin-api.js';
import { errorReply } from './admin-schemas.js';

function schemaOf(schema: ZodType, io: 'input' | 'output'): unknown {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
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
        ? { description: 'Success', content: { 'application/json': { schema: schemaOf(r.ok[1], 'output') } } }
        : { description: 'Done' },
      '401': { description: 'Missing or wrong admin token', content: errorContent },
    };
    if (r.body || r.query || parameters.length > 0) responses['400'] = { description: 'Invalid body, query or path parameter', content: errorContent };
    if (r.notFound) responses['404'] = { description: 'No such thing', content: errorContent };
    if (r.path.endsWith('/rooms') && r.method === 'POST') responses['409'] = { description: 'The programme has ROOMS_PER_PROGRAM_MAX rooms', content: errorContent };
    responses['503'] = { description: 'A backend is unreachable', content: errorContent };
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
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
      schemas: { Error: schemaOf(errorReply, 'output') },
    },
    paths,
  };
}
