/**
 * Lua functions that make an announced payload from a decoded state table, generated from the
 * domain's payload tables (`domain/payloads.ts`) so the scripts and the TypeScript mappers cannot
 * drift apart. Each function takes the state as a Lua table with the TypeScript field names and
 * returns the payload's JSON.
 */
import type { FieldRule, PayloadSpec } from '../../domain/payloads.js';

/** What `present` means in `payloads.ts`; cjson decodes a JSON null to `cjson.null`. */
export const LUA_PRESENT = `
local function present(v)
  return v ~= nil and v ~= cjson.null and v ~= ''
end
`;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function field(name: string): string {
  // Spliced into Lua source: only plain identifiers, which need no escaping.
  if (!IDENTIFIER.test(name)) throw new Error(`payload field ${JSON.stringify(name)} is not a plain identifier`);
  return `'${name}'`;
}

/** `local function <name>(src) ... end`, which needs `LUA_PRESENT` before it. */
export function luaPayload<Out, In>(name: string, spec: PayloadSpec<Out, In>): string {
  const lines = (Object.entries(spec) as [string, FieldRule<In>][]).map(([out, rule]) => {
    const src = `src[${field(rule.from)}]`;
    if (rule.kind === 'copy') return `  out[${field(out)}] = ${src}`;
    return `  if present(${src}) then out[${field(out)}] = ${rule.kind === 'flag' ? 'true' : src} end`;
  });
  return `
local function ${name}(src)
  local out = {}
${lines.join('\n')}
  return cjson.encode(out)
end
`;
}
