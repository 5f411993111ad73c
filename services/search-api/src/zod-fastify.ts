// Lets Fastify routes declare zod schemas: zod validates (with our messages naming the parameter) and the same
// schemas become the JSON Schemas of the OpenAPI document.
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { type ZodError, z } from 'zod';

/** The first problem, as "<message>" when the schema wrote one naming the parameter, else "<path>: <message>". */
export function describeZodError(err: ZodError, where: string): string {
  const issue = err.issues[0];
  if (!issue) return `${where} is invalid`;
  const path = issue.path.map(String).join('.');
  const named = path && issue.message.startsWith(path.split('.')[0]);
  if (named || (!path && where === 'body')) return issue.message;
  return `${path || where}: ${issue.message}`;
}

const WHERE: Record<string, string> = { querystring: 'query', params: 'path', body: 'body', headers: 'headers' };

export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const where = WHERE[httpPart ?? ''] ?? 'request';
  // A plain JSON Schema (the multipart upload's) only documents; the handler checks that part itself.
  if (!isZod(schema)) return (data: unknown) => ({ value: data });
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    return { error: new Error(describeZodError(result.error, where)) };
  };
};

/** Responses are our own values: plain JSON.stringify, no second validation on the hot path. */
export const zodSerializerCompiler: FastifySerializerCompiler<z.ZodType> = () => (data: unknown) =>
  JSON.stringify(data);

function isZod(s: unknown): s is z.ZodType {
  return typeof s === 'object' && s !== null && '_zod' in s;
}

function toJsonSchema(s: unknown, io: 'input' | 'output'): unknown {
  return isZod(s) ? z.toJSONSchema(s, { io, target: 'openapi-3.0', unrepresentable: 'any' }) : s;
}

/** @fastify/swagger `transform`: zod schemas in, JSON Schemas out. */
export function zodToOpenApi({ schema, url }: { schema: FastifySchema; url: string }) {
  if (!schema) return { schema, url };
  const out: Record<string, unknown> = { ...schema };
  for (const part of ['querystring', 'params', 'body', 'headers'] as const) {
    if (schema[part]) out[part] = toJsonSchema(schema[part], 'input');
  }
  if (schema.response && typeof schema.response === 'object') {
    out.response = Object.fromEntries(
      Object.entries(schema.response as Record<string, unknown>).map(([code, s]) => [code, toJsonSchema(s, 'output')]),
    );
  }
  return { schema: out as FastifySchema, url };
}
