// The search API's contract: what each route accepts and answers, as zod schemas with the types they infer. The API
// validates and documents with these schemas; the UI imports the types, so the two cannot drift apart.
export * from './schemas.ts';
export * from './search-params.ts';
