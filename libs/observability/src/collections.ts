/**
 * Adds `value` to the list under `key`, in place: grouping with `[...(map.get(k) ?? []), v]`
 * copies the list on every add, which is quadratic in a group's size (thousands of ProwJobs of
 * one Jenkins job in a resync).
 */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
