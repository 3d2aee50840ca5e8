/**
 * Runs `fn` over `items` with at most `limit` calls in flight and returns the results in the
 * items' order. Used wherever a fleet is read item by item against an API with a request rate
 * (state reads, resource describes), so a large fleet does not open one request per item at once.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
