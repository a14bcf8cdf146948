/**
 * The one NextToken codec of the local cloud's emulators (FSx, SSM, EC2, Step Functions, and any
 * new one): every List/Describe operation that pages hands out and reads its tokens through it.
 *
 * A token is opaque to clients: the base64 (RFC 4648, padded) of a small JSON object holding the
 * position `o` where the next page starts, plus the scope the listing is bound to (for example the
 * state machine and status filter of ListExecutions), so a token is refused by a listing it does
 * not belong to. Standard base64 because FSx's API model constrains NextToken to that alphabet.
 *
 * A missing token (`undefined`, `null` or `''`) means the first page. A token that cannot be read,
 * or that belongs to another scope, throws the error the service's factory builds: each service
 * keeps the code and message AWS sends for a bad token (EC2 `InvalidPaginationToken`, SSM
 * `InvalidNextToken`, FSx `BadRequest`, Step Functions `InvalidToken`).
 *
 * Usage:
 *   const tokens = pageTokens(() => new LocalAwsError('InvalidNextToken', 'The specified token is not valid.'));
 *   const { items, nextToken } = pageOf(all, { token: input.NextToken, size: 50 }, tokens);
 */

/** What a listing is bound to: primitive values compared for equality when a token comes back. */
export type TokenScope = Record<string, string | number | boolean>;

export interface PageTokens {
  /** The token for a page that starts at `position` of the listing bound to `scope`. */
  encode(position: number, scope?: TokenScope): string;
  /**
   * The position a token points at (0 for a missing token).
   * @throws the service's bad-token error when the token is unreadable or of another scope.
   */
  decode(token: unknown, scope?: TokenScope): number;
}

/** A codec whose bad tokens throw `invalid(token)`. */
export function pageTokens(invalid: (token: string) => Error): PageTokens {
  return {
    encode(position, scope = {}) {
      return Buffer.from(JSON.stringify({ ...scope, o: position })).toString('base64');
    },
    decode(token, scope = {}) {
      if (token === undefined || token === null || token === '') return 0;
      let payload: Record<string, unknown> | undefined;
      try {
        payload = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8'));
      } catch {
        payload = undefined;
      }
      const position = payload?.o;
      const inScope = Object.entries(scope).every(([key, value]) => payload?.[key] === value);
      if (!inScope || typeof position !== 'number' || !Number.isInteger(position) || position < 0) {
        throw invalid(String(token));
      }
      return position;
    },
  };
}

/**
 * One page of `all`: at most `size` items from the position in `token`; `nextToken` is set when
 * items remain.
 */
export function pageOf<T>(
  all: T[],
  options: { token: unknown; size: number; scope?: TokenScope },
  tokens: PageTokens,
): { items: T[]; nextToken?: string } {
  return pageAt(all, tokens.decode(options.token, options.scope), options.size, tokens, options.scope);
}

/**
 * One page of `all` from a position decoded earlier (for a service that reports a bad token
 * before other errors of the request); `nextToken` is set when items remain.
 */
export function pageAt<T>(
  all: T[],
  position: number,
  size: number,
  tokens: PageTokens,
  scope?: TokenScope,
): { items: T[]; nextToken?: string } {
  const items = all.slice(position, position + size);
  const next = position + items.length;
  return next < all.length ? { items, nextToken: tokens.encode(next, scope) } : { items };
}
