// The picture a search by picture or "more like this" started from, with its name.
import type { Query } from '../find-page.ts';

export function QueryPicture({ query }: { query: Exclude<Query, { kind: 'text' }> }) {
  return (
    <div className="query-picture">
      <img
        src={query.kind === 'image' ? query.preview : query.thumb}
        alt=""
        onError={(e) => {
          e.currentTarget.hidden = true;
        }}
      />
      <span>
        Pictures like{' '}
        <strong>{query.kind === 'image' ? query.file.name || 'the pasted picture' : (query.name ?? query.id)}</strong>
      </span>
    </div>
  );
}
