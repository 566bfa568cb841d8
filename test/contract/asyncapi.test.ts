/**
 * docs/asyncapi.yaml against src/protocol: the document parses, and its events, fields, required
 * lists and codes are the protocol's, so the published contract cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface, type Diagnostic } from '@asyncapi/parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConnectErrorCode, ErrorCode, SystemCode, connectErrorReconnect, errorMessages, systemReconnect } from '../../src/protocol/errors.js';
import { clientEventNames, serverEventNames } from '../../src/protocol/events.js';
import { clientAckFields, clientPayloadSchemas, programsFeedEventNames, programsFeedFields, serverEventFields, type Outline } from '../../src/protocol/fields.js';
import { createSchemas, identitySchema } from '../../src/protocol/schemas.js';

const text = readFileSync(new URL('../../docs/asyncapi.yaml', import.meta.url), 'utf8');
const protocolMd = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
/** Events socket.io emits by itself: the document describes them, the protocol module does not. */
const SOCKET_IO_EVENTS: readonly string[] = ['connect_error'];
const schemas = createSchemas();

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  title?: string;
  enum?: string[];
  description?: string;
}

/** Reduces a JSON schema to what the protocol tables record: property names and presence. */
function outline(schema: JsonSchema): Outline {
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return canonical({ oneOf: variants.map(outline) });
  if (schema.type === 'array') return { items: outline(schema.items ?? {}) };
  if (schema.type === 'object' || schema.properties) {
    const required = schema.required ?? [];
    const names = new Set([...Object.keys(schema.properties ?? {}), ...required]);
    return { properties: Object.fromEntries([...names].map((n) => [n, required.includes(n) ? 'required' : 'optional'])) };
  }
  return 'scalar';
}

/** Union order carries no meaning, in TypeScript or in `oneOf`: sort it away before comparing. */
function canonical(o: Outline): Outline {
  if (o === 'scalar') return o;
  if ('items' in o) return { items: canonical(o.items) };
  if ('properties' in o) {
    return { properties: Object.fromEntries(Object.entries(o.properties).sort(([a], [b]) => a.localeCompare(b))) };
  }
  const variants = o.oneOf.map(canonical);
  return { oneOf: variants.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) };
}

function zodOutline(schema: z.ZodType): Outline {
  return outline(z.toJSONSchema(schema, { io: 'input' }) as JsonSchema);
}

let parsed: { document: AsyncAPIDocumentInterface | undefined; diagnostics: Diagnostic[] };
beforeAll(async () => {
  parsed = await new Parser().parse(text);
});

function doc(): AsyncAPIDocumentInterface {
  if (!parsed.document) throw new Error('docs/asyncapi.yaml did not parse; see the diagnostics test');
  return parsed.document;
}

interface DocumentedEvent {
  event: string;
  payload: JsonSchema | undefined;
  replies: (JsonSchema | undefined)[];
}

/** The channel of the programmes feed `/_programs`, a namespace with events of its own. */
const FEED_CHANNEL = 'programsFeed';

/** One entry per message of every operation with this action: an event may have several audiences.
 * `feed`: those of the programmes feed, else those of the programme namespaces. */
function documented(action: 'send' | 'receive', feed = false): DocumentedEvent[] {
  return doc()
    .operations()
    .all()
    .filter((op) => op.action() === action && op.channels().all().some((c) => c.id() === FEED_CHANNEL) === feed)
    .flatMap((op) =>
      op
        .messages()
        .all()
        .map((m) => ({
          event: m.name() ?? `(unnamed message ${m.id()})`,
          payload: m.payload()?.json() as JsonSchema | undefined,
          replies: (op.reply()?.messages().all() ?? []).map((r) => r.payload()?.json() as JsonSchema | undefined),
        })),
    );
}

function occurrences(action: 'send' | 'receive', event: string): DocumentedEvent[] {
  const found = documented(action).filter((d) => d.event === event);
  expect(found, `${event} is not documented`).not.toEqual([]);
  return found;
}

function componentSchema(name: string): JsonSchema {
  const schema = doc().components().schemas().get(name);
  if (!schema) throw new Error(`components/schemas/${name} is missing`);
  return schema.json() as JsonSchema;
}

/** Whether a value has the fields an outline allows: every required one, no unknown one. */
function fits(value: unknown, o: Outline): boolean {
  if (o === 'scalar') return typeof value !== 'object' || value === null;
  if ('items' in o) return Array.isArray(value) && value.every((v) => fits(v, o.items));
  if ('oneOf' in o) return o.oneOf.some((v) => fits(value, v));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const presence = o.properties;
  return (
    Object.keys(value).every((k) => k in presence) &&
    Object.entries(presence).every(([k, p]) => p === 'optional' || k in value)
  );
}

/** The row of a code in a description's Markdown table. */
function rowOf(description: string | undefined, code: string): string | undefined {
  return description?.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
}

describe('docs/asyncapi.yaml', () => {
  it('parses as AsyncAPI 3.0.0 without errors', () => {
    const errors = parsed.diagnostics
      .filter((d) => d.severity === DiagnosticSeverity.Error)
      .map((d) => `${d.code} at ${d.path.join('.') || '(root)'}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(doc().version()).toBe('3.0.0');
  });

  it('sends exactly the client events of the protocol', () => {
    const names = new Set(documented('send').map((d) => d.event));
    expect([...names].sort()).toEqual([...clientEventNames].sort());
  });

  it('receives exactly the server events of the protocol, and socket.io’s own', () => {
    const names = new Set(documented('receive').map((d) => d.event));
    expect([...names].sort()).toEqual([...serverEventNames, ...SOCKET_IO_EVENTS].sort());
  });

  it.each(clientEventNames)('client event %s has the payload fields of its schema', (event) => {
    const key = clientPayloadSchemas[event];
    const expected = key === null ? null : zodOutline(schemas[key]);
    for (const { payload } of occurrences('send', event)) {
      expect(payload ? outline(payload) : null).toEqual(expected);
    }
  });

  it.each(clientEventNames)('client event %s replies with the acknowledgement fields of the protocol', (event) => {
    for (const { replies } of occurrences('send', event)) {
      expect(replies).toHaveLength(1);
      const [reply] = replies;
      expect(reply ? outline(reply) : null).toEqual(canonical(clientAckFields[event]));
    }
  });

  it.each(serverEventNames)('server event %s has the payload fields of the protocol', (event) => {
    for (const { payload } of occurrences('receive', event)) {
      expect(payload ? outline(payload) : null).toEqual(canonical(serverEventFields[event]));
    }
  });

  it('documents the programmes feed /_programs: exactly its events, all sent by the server', () => {
    const channel = doc().channels().all().find((c) => c.id() === FEED_CHANNEL);
    expect(channel?.address()).toBe('/_programs');
    expect(documented('send', true)).toEqual([]);
    expect(documented('receive', true).map((d) => d.event).sort()).toEqual([...programsFeedEventNames].sort());
  });

  it.each(programsFeedEventNames)('feed event %s has the payload fields of the protocol', (event) => {
    const found = documented('receive', true).filter((d) => d.event === event);
    expect(found).toHaveLength(1);
    expect(outline(found[0]!.payload ?? {})).toEqual(canonical(programsFeedFields[event]));
  });

  it('shows only examples with the fields of their message', () => {
    const messages = doc().messages().all();
    const examples = messages.flatMap((m) =>
      m
        .examples()
        .all()
        .map((e, i) => ({ where: `${m.id()} example ${i}`, value: e.payload(), schema: m.payload()?.json() })),
    );
    expect(examples).not.toEqual([]);
    for (const { where, value, schema } of examples) {
      expect(schema, `${where} has no payload to match`).toBeDefined();
      // A map (the feed's `viewers`) has no fixed fields: each of its values fits its value schema.
      const values = (schema as JsonSchema & { additionalProperties?: unknown }).additionalProperties;
      if (typeof values === 'object' && values !== null && !(schema as JsonSchema).properties) {
        expect(typeof value === 'object' && value !== null && Object.values(value).every((v) => fits(v, outline(values as JsonSchema))), where).toBe(true);
        continue;
      }
      expect(fits(value, outline(schema as JsonSchema)), where).toBe(true);
    }
  });

  it('lists every error code, each with its meaning', () => {
    const schema = componentSchema('ErrorCode');
    expect([...(schema.enum ?? [])].sort()).toEqual(Object.values(ErrorCode).sort());
    for (const code of Object.values(ErrorCode)) {
      expect(rowOf(schema.description, code), code).toContain(errorMessages[code]);
    }
  });

  it.each([
    ['ConnectErrorCode', Object.values(ConnectErrorCode)],
    ['SystemCode', Object.values(SystemCode)],
  ])('lists every code of %s, each described', (name, codes) => {
    const schema = componentSchema(name);
    expect([...(schema.enum ?? [])].sort()).toEqual([...codes].sort());
    for (const code of codes) expect(rowOf(schema.description, code), code).toBeDefined();
  });

  it.each([
    ['ConnectErrorCode', connectErrorReconnect],
    ['SystemCode', systemReconnect],
  ] as const)('gives the reconnect advice of every %s code, as the protocol module does', (name, advice) => {
    const schema = componentSchema(name);
    for (const [code, value] of Object.entries(advice)) {
      // The advice is the row's last cell.
      expect(rowOf(schema.description, code), code).toMatch(new RegExp(`\\| \`${value}\` \\|$`));
    }
  });

  it('describes the dev-mode handshake identity with the fields of identitySchema', () => {
    const dev = componentSchema('HandshakeAuth').oneOf?.find((s) => s.title === 'DevIdentity');
    expect(dev, 'HandshakeAuth has no DevIdentity variant').toBeDefined();
    expect(outline(dev ?? {})).toEqual(zodOutline(identitySchema));
  });
});

describe('docs/protocol.md', () => {
  /** The rows of the table under a heading, up to the next heading. */
  function section(heading: string): string {
    const start = protocolMd.indexOf(`\n${heading}\n`);
    expect(start, heading).toBeGreaterThan(-1);
    const next = protocolMd.indexOf('\n#', start + heading.length + 2);
    return protocolMd.slice(start, next < 0 ? undefined : next);
  }

  it.each([
    ['### Refused handshakes', connectErrorReconnect],
    ['## Server notices: `system`', systemReconnect],
  ] as const)('"%s" lists every code with its reconnect advice', (heading, advice) => {
    const table = section(heading);
    const documented = table
      .split('\n')
      .map((line) => /^\| `([A-Z_]+)` \|/.exec(line)?.[1])
      .filter((c) => c !== undefined);
    expect(documented.sort()).toEqual(Object.keys(advice).sort());
    for (const [code, value] of Object.entries(advice)) {
      expect(rowOf(table, code), code).toMatch(new RegExp(`\\| \`${value}\`[^|]*\\|$`));
    }
  });
});
