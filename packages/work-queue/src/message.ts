// The one message the downloader and the embedders agree on: "this picture is stored". JSON, versioned like the
// picture journal's records; a reader skips (dead-letters) a message of a version it does not know, never guesses.
import { z } from 'zod';

/** Bumped whenever a field changes meaning. */
export const MESSAGE_VERSION = 1;

const storedPicture = z.object({
  v: z.literal(MESSAGE_VERSION),
  /** sha256 of the picture's bytes, hex: the id of its document. */
  contentId: z.string().regex(/^[0-9a-f]{64}$/),
  /** The picture's path relative to the images folder, '/'-separated, never leaving it. */
  file: z
    .string()
    .min(1)
    .refine((f) => !f.startsWith('/') && !f.split('/').includes('..'), 'a path inside the images folder'),
  sourceUrl: z.string().nullable(),
});

export type StoredPicture = Omit<z.infer<typeof storedPicture>, 'v'>;

export function encodeStoredPicture(p: StoredPicture): Buffer {
  return Buffer.from(JSON.stringify({ v: MESSAGE_VERSION, ...p }));
}

/** The picture a message announces, or why it is not a message this version understands. */
export function decodeStoredPicture(body: Buffer): { picture: StoredPicture } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    return { error: 'unreadable message: not JSON' };
  }
  const parsed = storedPicture.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `unreadable message: ${issue?.path.join('.') || 'body'} ${issue?.message ?? 'is invalid'}` };
  }
  const { v: _v, ...picture } = parsed.data;
  return { picture };
}
